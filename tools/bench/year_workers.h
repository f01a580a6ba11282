// Generated workers and claim applications shared by claims_bench and
// year_gen: deterministic from an index, valid ID numbers (distinct up to
// ~74 M workers), like `mutualctl generate workers` and enrollment_bench.
#ifndef MUTUALAID_TOOLS_BENCH_YEAR_WORKERS_H_
#define MUTUALAID_TOOLS_BENCH_YEAR_WORKERS_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/plan/validation.h"
#include "mutualaid/v1/claims.pb.h"
#include "mutualaid/v1/enrollment.pb.h"

namespace mutualaid::bench {

inline uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline constexpr const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄",
                                            "赵", "吴", "周", "徐", "孙", "马", "朱",
                                            "胡", "郭", "何", "林", "罗", "高"};
inline constexpr const char* kGiven[] = {"伟", "芳", "娜", "敏", "静", "磊", "洋",
                                         "勇", "杰", "涛", "强", "军", "平", "刚",
                                         "桂英", "建华", "海燕", "志强", "秀英"};
inline constexpr const char* kIndustries[] = {"FOOD_DELIVERY", "INSTANT_DELIVERY",
                                              "EXPRESS_DELIVERY", "RIDE_HAILING",
                                              "INTRACITY_FREIGHT"};
inline constexpr const char* kRegions[] = {"310101", "310115", "340104",
                                           "320106", "410102", "510104"};
inline constexpr const char* kSites[] = {"服务大厅", "浦东新区", "黄浦区", "徐汇区",
                                         "长宁区",   "静安区",   "普陀区", "虹口区"};

// Worker `w` (w >= 1): born 1967..2003 (18-55 through 2022), a distinct ID
// number and phone per w.
inline v1::EnrollmentRecord WorkerRecord(uint64_t w) {
  uint64_t h = Mix(w);
  uint64_t rest = w / 6;
  int seq = static_cast<int>(rest % 1000);
  uint64_t d = rest / 1000;
  int day = 1 + static_cast<int>(d % 28);
  int month = 1 + static_cast<int>((d / 28) % 12);
  int year = 1967 + static_cast<int>((d / 336 + h) % 37);
  std::string first17 =
      absl::StrFormat("%s%04d%02d%02d%03d", kRegions[w % 6], year, month, day, seq);
  v1::EnrollmentRecord r;
  r.set_name(std::string(kSurnames[h % 20]) + kGiven[(h >> 8) % 19]);
  r.set_id_number(first17 + plan::IdNumberCheckChar(first17));
  r.set_phone(absl::StrFormat("1%d%09d", 3 + static_cast<int>((h >> 16) % 7),
                              static_cast<int>(w % 1000000000)));
  r.set_industry(kIndustries[(h >> 24) % 5]);
  r.set_platform_record_id(absl::StrFormat("R%d", w));
  return r;
}

// A card number with a valid Luhn check digit.
inline std::string LuhnCard(const std::string& first) {
  int sum = 0;
  bool twice = true;
  for (auto it = first.rbegin(); it != first.rend(); ++it, twice = !twice) {
    int d = *it - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return first + std::to_string((10 - sum % 10) % 10);
}

// A hospital-allowance claim (§五(一)) for `id_number`: an illness stay of
// 2-8 days admitted on `admission`, filed at one of the sites, paid to the
// worker's union member card.
inline v1::ClaimApplication HospitalClaim(const std::string& claim_id, const std::string& id_number,
                                          absl::CivilDay admission, uint64_t n) {
  v1::ClaimApplication a;
  a.set_claim_id(claim_id);
  a.set_id_number(id_number);
  a.set_site(kSites[n % 8]);
  v1::ClaimFacts* f = a.mutable_facts();
  f->set_benefit(v1::BENEFIT_HOSPITAL_ALLOWANCE);
  f->set_claimant(v1::CLAIMANT_WORKER);
  f->set_cause(n % 5 == 0 ? v1::CAUSE_ACCIDENT : v1::CAUSE_ILLNESS);
  f->set_hospital(v1::HOSPITAL_KIND_DESIGNATED_HOSPITAL);
  *f->mutable_admission() = events::ToProto(admission);
  *f->mutable_discharge() = events::ToProto(admission + 2 + static_cast<int>(Mix(n) % 7));
  a.mutable_payee_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
  a.mutable_payee_card()->set_card_number(
      LuhnCard(absl::StrFormat("622202%09d", static_cast<int>(n % 1000000000))));
  a.mutable_payee_card()->set_holder_name("张三");
  return a;
}

}  // namespace mutualaid::bench

#endif  // MUTUALAID_TOOLS_BENCH_YEAR_WORKERS_H_
