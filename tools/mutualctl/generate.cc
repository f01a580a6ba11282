#include "generate.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mutualaid/plan/validation.h"

namespace mutualaid::mutualctl {
namespace {

constexpr char kUsage[] =
    "usage: mutualctl generate workers --count N [--seed S] [--first N] [--bad-percent P]\n"
    "                                  [--duplicate-percent P] [--record-prefix R] [--out FILE]\n"
    "  A platform's enrollment CSV (header: 记录编号,姓名,身份证号,手机号,行业) of made-up\n"
    "  workers aged 18-55 with valid ID numbers; about P%% of rows are broken (bad check\n"
    "  character, bad phone, unknown industry) and P%% repeat an earlier worker. Worker\n"
    "  numbers start at --first (default 1), so files for several platforms can overlap\n"
    "  or not. Record ids are R1, R2, … (--record-prefix: e.g. 2022-04-R for a later\n"
    "  month's file; the service answers a record id it knows as a retry). The same\n"
    "  seed makes the same file.\n";

constexpr const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                     "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"};
constexpr const char* kGiven[] = {"伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "杰", "涛",
                                  "强", "军", "平", "刚", "桂英", "建华", "海燕", "志强", "秀英"};
constexpr const char* kIndustries[] = {"网约送餐", "即时递送", "快递", "网约车", "同城货运"};
// Province/city/district prefixes of real regions (Shanghai, Anhui, Jiangsu, Henan, Sichuan).
constexpr const char* kRegions[] = {"310101", "310115", "340104", "320106", "410102", "510104"};

std::string IdNumberOf(uint64_t worker, std::mt19937_64& rng) {
  int year = 1967 + static_cast<int>(rng() % 37);  // born 1967..2003
  int month = 1 + static_cast<int>(rng() % 12);
  int day = 1 + static_cast<int>(rng() % 28);
  std::string first17 = absl::StrFormat("%s%04d%02d%02d%03d", kRegions[worker % 6], year, month,
                                        day, static_cast<int>(worker % 1000));
  return first17 + plan::IdNumberCheckChar(first17);
}

}  // namespace

std::vector<GeneratedWorker> GenerateWorkers(const GenerateOptions& options) {
  std::vector<GeneratedWorker> rows;
  std::mt19937_64 rng(static_cast<uint64_t>(options.seed));
  for (int64_t row = 0; row < options.count; ++row) {
    uint64_t worker = static_cast<uint64_t>(options.first + row);
    if (row > 0 && static_cast<int64_t>(rng() % 100) < options.duplicate_percent) {
      worker = static_cast<uint64_t>(options.first + static_cast<int64_t>(rng() % row));  // a repeat
    }
    std::mt19937_64 person(worker * 2654435761u + 17);  // the same worker, the same person
    GeneratedWorker w;
    w.record_id = absl::StrCat(options.record_prefix, row + 1);
    w.worker = static_cast<int64_t>(worker);
    w.id_number = IdNumberOf(worker, person);
    w.name = std::string(kSurnames[person() % 20]) + kGiven[person() % 19];
    w.phone = absl::StrFormat("1%d%09d", 3 + static_cast<int>(person() % 7),
                              static_cast<int>(worker % 1000000000));
    w.industry = kIndustries[person() % 5];
    if (static_cast<int64_t>(rng() % 100) < options.bad_percent) {
      w.broken = true;
      switch (rng() % 3) {
        case 0:
          w.id_number.back() = w.id_number.back() == '0' ? '1' : '0';
          break;
        case 1:
          w.phone = w.phone.substr(0, 7);
          break;
        default:
          w.industry = "送外卖";
      }
    }
    rows.push_back(std::move(w));
  }
  return rows;
}

void WriteWorkersCsv(const std::vector<GeneratedWorker>& rows, std::ostream& out) {
  out << "记录编号,姓名,身份证号,手机号,行业\n";
  for (const GeneratedWorker& w : rows) {
    out << w.record_id << "," << w.name << "," << w.id_number << "," << w.phone << "," << w.industry
        << "\n";
  }
}

std::string WorkerIdNumber(int64_t worker) {
  std::mt19937_64 person(static_cast<uint64_t>(worker) * 2654435761u + 17);
  return IdNumberOf(static_cast<uint64_t>(worker), person);
}

int RunGenerateCommand(int argc, char** argv) {
  if (argc < 1 || std::string(argv[0]) != "workers") {
    std::cerr << kUsage;
    return 2;
  }
  int64_t count = 0, first = 1, seed = 1, bad = 3, dup = 2;
  std::string out, record_prefix = "R";
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "mutualctl generate: " << flag << " needs a value\n" << kUsage;
      return 2;
    }
    std::string value = argv[++i];
    int64_t* target = flag == "--count"               ? &count
                      : flag == "--first"             ? &first
                      : flag == "--seed"              ? &seed
                      : flag == "--bad-percent"       ? &bad
                      : flag == "--duplicate-percent" ? &dup
                                                      : nullptr;
    if (flag == "--out") {
      out = value;
    } else if (flag == "--record-prefix") {
      record_prefix = value;
    } else if (target == nullptr || !absl::SimpleAtoi(value, target) || *target < 0) {
      std::cerr << "mutualctl generate: bad flag " << flag << " " << value << "\n" << kUsage;
      return 2;
    }
  }
  if (count <= 0) {
    std::cerr << "mutualctl generate: --count N is required\n" << kUsage;
    return 2;
  }
  std::ofstream file;
  if (!out.empty()) {
    file.open(out);
    if (!file) {
      std::cerr << "mutualctl generate: cannot write " << out << "\n";
      return 2;
    }
  }
  std::ostream& o = out.empty() ? std::cout : file;
  WriteWorkersCsv(GenerateWorkers({.count = count,
                                   .first = first,
                                   .seed = seed,
                                   .bad_percent = bad,
                                   .duplicate_percent = dup,
                                   .record_prefix = record_prefix}),
                  o);
  o.flush();
  if (!o) {
    std::cerr << "mutualctl generate: write failed\n";
    return 2;
  }
  return 0;
}

}  // namespace mutualaid::mutualctl
