// mutualctl generate workers: a platform's monthly enrollment CSV of made-up
// workers (valid ID numbers, some invalid and duplicate rows), for demos,
// benchmarks and load tests.
#ifndef MUTUALAID_TOOLS_MUTUALCTL_GENERATE_H_
#define MUTUALAID_TOOLS_MUTUALCTL_GENERATE_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace mutualaid::mutualctl {

struct GenerateOptions {
  int64_t count = 0;              // rows
  int64_t first = 1;              // the first worker's number
  int64_t seed = 1;               // the same seed makes the same rows
  int64_t bad_percent = 3;        // rows broken on purpose
  int64_t duplicate_percent = 2;  // rows repeating an earlier worker of the file
  // Record ids are <record_prefix><row>: a platform's record ids must differ
  // from month to month (the service answers a known one as a retry).
  std::string record_prefix = "R";
};

// One row of a platform's enrollment CSV.
struct GeneratedWorker {
  std::string record_id;  // "R1", "R2", … (the platform's record id, record_prefix + row)
  int64_t worker = 0;     // the worker's number: the same number is the same person
  std::string name;
  std::string id_number;
  std::string phone;
  std::string industry;   // 网约送餐, …
  bool broken = false;    // a check character, phone or industry spoiled on purpose
};

std::vector<GeneratedWorker> GenerateWorkers(const GenerateOptions& options);
// The header 记录编号,姓名,身份证号,手机号,行业 and one line per row.
void WriteWorkersCsv(const std::vector<GeneratedWorker>& rows, std::ostream& out);
// Worker `worker`'s (valid) ID number, as every generated file has it.
std::string WorkerIdNumber(int64_t worker);

int RunGenerateCommand(int argc, char** argv);

}  // namespace mutualaid::mutualctl

#endif  // MUTUALAID_TOOLS_MUTUALCTL_GENERATE_H_
