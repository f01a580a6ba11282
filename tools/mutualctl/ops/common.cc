#include "common.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "mutualaid/kafka/admin.h"
#include "mutualaid/kafka/partition_reader.h"
#include "mutualaid/kafka/topics.h"

namespace mutualaid::mutualctl::ops {

std::string Args::Get(const std::string& name, const char* env,
                      const std::string& fallback) const {
  auto it = flags.find(name);
  if (it != flags.end()) return it->second;
  const char* v = env != nullptr ? std::getenv(env) : nullptr;
  if (v != nullptr && *v != '\0') return v;
  return fallback;
}

absl::StatusOr<Args> ParseArgs(int argc, char** argv, const std::set<std::string>& switches) {
  Args out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0 && a.size() > 2) {
      std::string name = a.substr(2);
      if (size_t eq = name.find('='); eq != std::string::npos) {
        out.flags[name.substr(0, eq)] = name.substr(eq + 1);
      } else if (switches.count(name) > 0) {
        out.switches.insert(name);
      } else if (i + 1 >= argc) {
        return absl::InvalidArgumentError(a + " needs a value");
      } else {
        out.flags[name] = argv[++i];
      }
    } else {
      out.positional.push_back(a);
    }
  }
  return out;
}

kafka::ClientConfig ClientFrom(const Args& args) {
  kafka::ClientConfig c;
  c.bootstrap = args.Get("bootstrap", "MUTUALAID_KAFKA_BOOTSTRAP", "127.0.0.1:19092");
  c.client_id = "mutualctl";
  return c;
}

std::string PrefixFrom(const Args& args) { return args.Get("topic-prefix"); }

std::vector<std::string> EventsTopics(const std::string& prefix) {
  return {prefix + std::string(kafka::kEnrollmentEvents), prefix + std::string(kafka::kClaimsEvents),
          prefix + std::string(kafka::kPayoutEvents),
          prefix + std::string(kafka::kNotificationEvents)};
}

absl::StatusOr<int32_t> PartitionCount(const kafka::ClientConfig& client,
                                       const std::string& topic) {
  absl::StatusOr<std::unique_ptr<kafka::Admin>> admin = kafka::Admin::Create(client);
  if (!admin.ok()) return admin.status();
  absl::StatusOr<kafka::TopicDescription> desc = (*admin)->DescribeTopic(topic);
  if (!desc.ok()) return desc.status();
  return desc->partitions;
}

absl::StatusOr<int64_t> RecordCount(const kafka::ClientConfig& client,
                                    const std::vector<std::string>& topics) {
  absl::StatusOr<std::unique_ptr<kafka::Admin>> admin = kafka::Admin::Create(client);
  if (!admin.ok()) return admin.status();
  int64_t total = 0;
  for (const std::string& topic : topics) {
    absl::StatusOr<kafka::TopicDescription> desc = (*admin)->DescribeTopic(topic);
    if (!desc.ok()) return desc.status();
    for (int32_t p = 0; p < desc->partitions; ++p) {
      absl::StatusOr<kafka::Watermarks> w = (*admin)->QueryWatermarks(topic, p);
      if (!w.ok()) return w.status();
      total += w->high - w->low;
    }
  }
  return total;
}

absl::Status ReadPartition(const kafka::ClientConfig& client, const std::string& topic,
                           int32_t partition,
                           const std::function<bool(const kafka::Message&)>& visit) {
  absl::StatusOr<std::unique_ptr<kafka::PartitionReader>> reader =
      kafka::PartitionReader::Open(client, topic, partition, 0);
  if (!reader.ok()) return reader.status();
  while (true) {
    absl::StatusOr<std::optional<kafka::Message>> m = (*reader)->Next();
    if (!m.ok()) return m.status();
    if (!m->has_value()) return absl::OkStatus();
    if (!visit(**m)) return absl::OkStatus();
  }
}

absl::Status ReadTopic(const kafka::ClientConfig& client, const std::string& topic,
                       const std::function<bool(const kafka::Message&)>& visit) {
  absl::StatusOr<int32_t> partitions = PartitionCount(client, topic);
  if (!partitions.ok()) return partitions.status();
  for (int32_t p = 0; p < *partitions; ++p) {
    if (absl::Status s = ReadPartition(client, topic, p, visit); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::TimeZone Shanghai() {
  static const absl::TimeZone tz = [] {
    absl::TimeZone z;
    if (!absl::LoadTimeZone("Asia/Shanghai", &z)) z = absl::FixedTimeZone(8 * 3600);
    return z;
  }();
  return tz;
}

bool IsSet(const v1::Date& d) { return d.year() != 0; }

absl::CivilDay DayOf(const v1::Date& d) { return absl::CivilDay(d.year(), d.month(), d.day()); }

std::string DateText(const v1::Date& d) {
  if (!IsSet(d)) return "";
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

absl::Time RecordedAt(const v1::Envelope& e) {
  if (!e.has_recorded_at()) return absl::InfinitePast();
  return absl::FromUnixSeconds(e.recorded_at().seconds()) +
         absl::Nanoseconds(e.recorded_at().nanos());
}

absl::CivilDay RecordedDay(const v1::Envelope& e) {
  if (e.has_recorded_at()) return absl::ToCivilDay(RecordedAt(e), Shanghai());
  return DayOf(e.occurred_on());
}

std::string TimeText(absl::Time t) {
  if (t == absl::InfinitePast()) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", t, Shanghai());
}

bool ParseDay(const std::string& text, absl::CivilDay* day) {
  return absl::ParseCivilTime(text, day);
}

std::string Yuan(int64_t fen) {
  const bool neg = fen < 0;
  uint64_t f = neg ? static_cast<uint64_t>(-fen) : static_cast<uint64_t>(fen);
  std::string whole = absl::StrCat(f / 100);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped += ',';
    grouped += whole[i];
  }
  return absl::StrFormat("%s%s.%02d", neg ? "-" : "", grouped, static_cast<int>(f % 100));
}

namespace {
std::string Strip(std::string name, absl::string_view prefix) {
  if (absl::StartsWith(name, prefix)) name = name.substr(prefix.size());
  return name;
}
}  // namespace

std::string ReasonName(int code) {
  if (!v1::ReasonCode_IsValid(code)) return absl::StrCat(code);
  return Strip(v1::ReasonCode_Name(static_cast<v1::ReasonCode>(code)), "REASON_CODE_");
}
std::string BenefitName(int benefit) {
  if (!v1::Benefit_IsValid(benefit)) return absl::StrCat(benefit);
  return Strip(v1::Benefit_Name(static_cast<v1::Benefit>(benefit)), "BENEFIT_");
}
std::string BenefitLabel(int benefit) {
  switch (benefit) {
    case v1::BENEFIT_HOSPITAL_ALLOWANCE: return "住院补助金";
    case v1::BENEFIT_CRITICAL_ILLNESS: return "重大疾病保障金";
    case v1::BENEFIT_COVID19: return "新冠肺炎保障";
    case v1::BENEFIT_CRITICAL_ILLNESS_SUBSIDY: return "重疾住院医疗补助金";
    case v1::BENEFIT_ILLNESS_DEATH: return "疾病身故保障金";
    case v1::BENEFIT_ACCIDENTAL_DEATH: return "意外身故";
    case v1::BENEFIT_ACCIDENTAL_DISABILITY: return "意外伤残";
    case v1::BENEFIT_ACCIDENT_CONSOLATION: return "意外伤害慰问金";
    default: return "未知";
  }
}
std::string KindLabel(int kind) {
  switch (kind) {
    case v1::ENROLLMENT_KIND_CONCENTRATED: return "集中参保";
    case v1::ENROLLMENT_KIND_INSTANT: return "即时参保";
    default: return "未知";
  }
}
std::string ClaimStatusName(int status) {
  if (!v1::ClaimStatus_IsValid(status)) return absl::StrCat(status);
  return Strip(v1::ClaimStatus_Name(static_cast<v1::ClaimStatus>(status)), "CLAIM_STATUS_");
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  std::string token(absl::StripAsciiWhitespace(*text));
  if (token.empty()) return absl::InvalidArgumentError(path + " holds no token");
  return token;
}

}  // namespace mutualaid::mutualctl::ops
