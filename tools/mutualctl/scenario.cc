#include "scenario.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mutualaid/json/json.h"
#include "mutualaid/plan/calendar.h"
#include "mutualaid/plan/codes.h"

namespace mutualaid::mutualctl {
namespace {

using plan::Benefit;

constexpr int64_t kMaxSafeInteger = int64_t{1} << 53;

// Shows a value in an error message: short, and on one line.
std::string Quote(std::string_view text) {
  if (text.size() > 64) {
    size_t cut = 64;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut);  // on a UTF-8 boundary
  }
  std::string shown;
  json::AppendString(shown, text);
  return shown;
}

// Reads the fields of one JSON object, naming `where` in every error.
class ObjectReader {
 public:
  ObjectReader(const json::Value& object, std::string where)
      : object_(object), where_(std::move(where)) {}

  absl::Status Error(std::string_view field, std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(where_, where_.empty() ? "" : ".", std::string(field), ": ", std::string(what)));
  }

  bool Has(std::string_view field) const { return object_.Find(field) != nullptr; }

  absl::StatusOr<const json::Value*> Get(std::string_view field, json::Kind kind) const {
    const json::Value* value = object_.Find(field);
    if (value == nullptr) return Error(field, "missing");
    if (value->kind() != kind) {
      const std::string_view name = json::KindName(kind);
      const bool vowel = name.front() == 'a' || name.front() == 'o';
      return Error(field, absl::StrCat(vowel ? "not an " : "not a ", std::string(name), " (got ",
                                       std::string(json::KindName(value->kind())), ")"));
    }
    return value;
  }

  absl::StatusOr<std::string> String(std::string_view field) const {
    absl::StatusOr<const json::Value*> value = Get(field, json::Kind::kString);
    if (!value.ok()) return value.status();
    return (*value)->string_value();
  }

  absl::StatusOr<std::string> NonEmptyString(std::string_view field) const {
    absl::StatusOr<std::string> value = String(field);
    if (value.ok() && value->empty()) return Error(field, "empty");
    return value;
  }

  absl::StatusOr<bool> Bool(std::string_view field) const {
    absl::StatusOr<const json::Value*> value = Get(field, json::Kind::kBool);
    if (!value.ok()) return value.status();
    return (*value)->bool_value();
  }

  absl::StatusOr<absl::CivilDay> Date(std::string_view field) const {
    absl::StatusOr<std::string> text = String(field);
    if (!text.ok()) return text.status();
    absl::CivilDay day;
    if (!plan::ParseIsoDate(*text, &day)) return Error(field, "not a date (YYYY-MM-DD)");
    return day;
  }

  absl::StatusOr<int64_t> Integer(std::string_view field, int64_t min, int64_t max) const {
    absl::StatusOr<const json::Value*> value = Get(field, json::Kind::kNumber);
    if (!value.ok()) return value.status();
    const std::optional<int64_t> integer = (*value)->Int64();
    if (!integer.has_value() || *integer < min || *integer > max) {
      return Error(field, absl::StrCat("not an integer in ", min, "..", max));
    }
    return *integer;
  }

  template <typename E>
  absl::StatusOr<E> Enum(std::string_view field, std::optional<E> (*parse)(std::string_view)) const {
    absl::StatusOr<std::string> text = String(field);
    if (!text.ok()) return text.status();
    const std::optional<E> value = parse(*text);
    if (!value.has_value()) return Error(field, absl::StrCat("unknown value ", Quote(*text)));
    return *value;
  }

 private:
  const json::Value& object_;
  std::string where_;
};

#define ASSIGN_OR_RETURN(lhs, expr)        \
  do {                                     \
    auto assign_or_return_value = (expr);  \
    if (!assign_or_return_value.ok()) {    \
      return assign_or_return_value.status(); \
    }                                      \
    lhs = *std::move(assign_or_return_value); \
  } while (false)

absl::Status ReadPlatforms(const json::Value& root, Scenario& scenario) {
  const json::Value* platforms = root.Find("platforms");
  if (platforms == nullptr) return absl::OkStatus();
  if (platforms->kind() != json::Kind::kObject) {
    return absl::InvalidArgumentError("platforms: not an object");
  }
  for (size_t i = 0; i < platforms->members().size(); ++i) {
    const std::string& id = platforms->members()[i].name;
    const json::Value& value = platforms->members()[i].value;
    const std::string where = absl::StrCat("platforms.", id);
    if (value.kind() != json::Kind::kObject) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": not an object"));
    }
    ObjectReader r(value, where);
    ScenarioPlatform platform;
    ASSIGN_OR_RETURN(platform.name, r.String("name"));
    if (r.Has("registered")) ASSIGN_OR_RETURN(platform.registered, r.Bool("registered"));
    scenario.platforms[id] = std::move(platform);
  }
  return absl::OkStatus();
}

absl::Status ReadWorkers(const json::Value& root, Scenario& scenario) {
  const json::Value* workers = root.Find("workers");
  if (workers == nullptr) return absl::OkStatus();
  if (workers->kind() != json::Kind::kObject) {
    return absl::InvalidArgumentError("workers: not an object");
  }
  for (size_t i = 0; i < workers->members().size(); ++i) {
    const std::string& key = workers->members()[i].name;
    const json::Value& value = workers->members()[i].value;
    const std::string where = absl::StrCat("workers.", key);
    if (value.kind() != json::Kind::kObject) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": not an object"));
    }
    ObjectReader r(value, where);
    ScenarioWorker worker;
    // Contents are the rules' to judge (INVALID_ID_NUMBER …); only types here.
    ASSIGN_OR_RETURN(worker.id_number, r.String("id_number"));
    ASSIGN_OR_RETURN(worker.name, r.String("name"));
    ASSIGN_OR_RETURN(worker.phone, r.String("phone"));
    scenario.workers[key] = std::move(worker);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> WorkerRef(const ObjectReader& r, const Scenario& scenario) {
  std::string worker;
  ASSIGN_OR_RETURN(worker, r.String("worker"));
  if (!scenario.workers.contains(worker)) {
    return r.Error("worker", absl::StrCat("unknown worker ", Quote(worker)));
  }
  return worker;
}

absl::StatusOr<EnrollStep> ReadEnroll(const ObjectReader& r, const Scenario& scenario) {
  EnrollStep step;
  ASSIGN_OR_RETURN(step.worker, WorkerRef(r, scenario));
  ASSIGN_OR_RETURN(step.platform, r.String("platform"));
  if (!scenario.platforms.contains(step.platform)) {
    return r.Error("platform", absl::StrCat("unknown platform ", Quote(step.platform)));
  }
  ASSIGN_OR_RETURN(step.industry, r.String("industry"));
  ASSIGN_OR_RETURN(step.received_on, r.Date("received_on"));
  if (r.Has("worker_share_fen")) {
    ASSIGN_OR_RETURN(step.worker_share_fen, r.Integer("worker_share_fen", 0, kMaxSafeInteger));
  }
  return step;
}

absl::Status ReadAccident(const ObjectReader& r, plan::ClaimRequest& c) {
  ASSIGN_OR_RETURN(c.accident_id, r.NonEmptyString("accident_id"));
  ASSIGN_OR_RETURN(c.accident_on, r.Date("accident_on"));
  return absl::OkStatus();
}

absl::StatusOr<ClaimStep> ReadClaim(const ObjectReader& r, const Scenario& scenario) {
  ClaimStep step;
  plan::ClaimRequest& c = step.request;
  ASSIGN_OR_RETURN(step.worker, WorkerRef(r, scenario));
  ASSIGN_OR_RETURN(c.claim_id, r.NonEmptyString("claim_id"));
  ASSIGN_OR_RETURN(c.benefit, r.Enum<Benefit>("benefit", &plan::ParseBenefit));
  ASSIGN_OR_RETURN(c.received_on, r.Date("received_on"));
  ASSIGN_OR_RETURN(c.claimant, r.Enum<plan::Claimant>("claimant", &plan::ParseClaimant));
  ASSIGN_OR_RETURN(c.site, r.Enum<plan::Site>("site", &plan::ParseSite));
  switch (c.benefit) {
    case Benefit::kHospitalAllowance:
      ASSIGN_OR_RETURN(c.cause, r.Enum<plan::Cause>("cause", &plan::ParseCause));
      ASSIGN_OR_RETURN(c.hospital, r.Enum<plan::Hospital>("hospital", &plan::ParseHospital));
      ASSIGN_OR_RETURN(c.admission, r.Date("admission"));
      ASSIGN_OR_RETURN(c.discharge, r.Date("discharge"));
      break;
    case Benefit::kCriticalIllness:
      ASSIGN_OR_RETURN(c.category, r.Enum<plan::CriticalIllnessCategory>(
                                       "category", &plan::ParseCriticalIllnessCategory));
      ASSIGN_OR_RETURN(c.hospital, r.Enum<plan::Hospital>("hospital", &plan::ParseHospital));
      ASSIGN_OR_RETURN(c.diagnosed_on, r.Date("diagnosed_on"));
      ASSIGN_OR_RETURN(c.hospitalized, r.Bool("hospitalized"));
      break;
    case Benefit::kCovid19:
      ASSIGN_OR_RETURN(c.hospital, r.Enum<plan::Hospital>("hospital", &plan::ParseHospital));
      ASSIGN_OR_RETURN(c.diagnosed_on, r.Date("diagnosed_on"));
      break;
    case Benefit::kCriticalIllnessSubsidy:
      ASSIGN_OR_RETURN(c.category, r.Enum<plan::CriticalIllnessCategory>(
                                       "category", &plan::ParseCriticalIllnessCategory));
      ASSIGN_OR_RETURN(c.hospital, r.Enum<plan::Hospital>("hospital", &plan::ParseHospital));
      ASSIGN_OR_RETURN(c.admission, r.Date("admission"));
      ASSIGN_OR_RETURN(c.discharge, r.Date("discharge"));
      ASSIGN_OR_RETURN(c.out_of_pocket_fen, r.Integer("out_of_pocket_fen", 0, kMaxSafeInteger));
      break;
    case Benefit::kIllnessDeath:
      ASSIGN_OR_RETURN(c.died_on, r.Date("died_on"));
      ASSIGN_OR_RETURN(c.in_shanghai, r.Bool("in_shanghai"));
      break;
    case Benefit::kAccidentalDeath:
      if (absl::Status s = ReadAccident(r, c); !s.ok()) return s;
      ASSIGN_OR_RETURN(c.died_on, r.Date("died_on"));
      ASSIGN_OR_RETURN(c.in_shanghai, r.Bool("in_shanghai"));
      break;
    case Benefit::kAccidentalDisability: {
      if (absl::Status s = ReadAccident(r, c); !s.ok()) return s;
      ASSIGN_OR_RETURN(c.assessed_on, r.Date("assessed_on"));
      int64_t grade = 0;
      ASSIGN_OR_RETURN(grade, r.Integer("grade", 1, 10));
      c.grade = static_cast<int>(grade);
      ASSIGN_OR_RETURN(c.in_shanghai, r.Bool("in_shanghai"));
      break;
    }
    case Benefit::kAccidentConsolation:
      if (absl::Status s = ReadAccident(r, c); !s.ok()) return s;
      ASSIGN_OR_RETURN(c.meets_criteria, r.Bool("meets_criteria"));
      ASSIGN_OR_RETURN(c.in_shanghai, r.Bool("in_shanghai"));
      break;
  }
  return step;
}

}  // namespace

absl::StatusOr<Scenario> ParseScenario(std::string_view text) {
  absl::StatusOr<json::Value> root = json::Parse(text);
  if (!root.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("not JSON: ", std::string(root.status().message())));
  }
  if (root->kind() != json::Kind::kObject) {
    return absl::InvalidArgumentError("scenario: not a JSON object");
  }
  Scenario scenario;
  ObjectReader top(*root, "");
  if (top.Has("plan")) {
    std::string plan;
    ASSIGN_OR_RETURN(plan, top.String("plan"));
    scenario.plan = std::move(plan);
  }
  if (absl::Status s = ReadPlatforms(*root, scenario); !s.ok()) return s;
  if (absl::Status s = ReadWorkers(*root, scenario); !s.ok()) return s;

  const json::Value* steps = nullptr;
  ASSIGN_OR_RETURN(steps, top.Get("steps", json::Kind::kArray));
  for (size_t i = 0; i < steps->items().size(); ++i) {
    const std::string where = absl::StrCat("steps[", i, "]");
    const json::Value& value = steps->items()[i];
    if (value.kind() != json::Kind::kObject) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": not an object"));
    }
    ObjectReader r(value, where);
    std::string op;
    ASSIGN_OR_RETURN(op, r.String("op"));
    if (op == "enroll") {
      EnrollStep step;
      ASSIGN_OR_RETURN(step, ReadEnroll(r, scenario));
      scenario.steps.push_back(Step{std::move(step)});
    } else if (op == "claim") {
      ClaimStep step;
      ASSIGN_OR_RETURN(step, ReadClaim(r, scenario));
      scenario.steps.push_back(Step{std::move(step)});
    } else {
      return r.Error("op", absl::StrCat("unknown op ", Quote(op)));
    }
  }
  return scenario;
}

}  // namespace mutualaid::mutualctl
