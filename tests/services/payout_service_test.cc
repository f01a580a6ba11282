// The payout service as a process against the real broker and a real fakebank
// on loopback. The test plays the claims service: it appends ClaimDecided /
// ClaimInvestigationDecided envelopes to the claims events topic (and the
// platform registry to the enrollment events topic) with a plain producer.
//
// What must hold after bank faults (errors, timeouts, a crash of the bank)
// and after SIGKILLs of the payout service at random instants: the bank's
// ledger holds exactly one credit per approved claim, with the claim's amount,
// to the right payee (death benefits: the platform's account), and nothing
// else.
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "../gateways/fake_process.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "mutualaid/crypto/key_ring.h"
#include "mutualaid/events/convert.h"
#include "mutualaid/events/envelope.h"
#include "mutualaid/kafka/producer.h"
#include "mutualaid/kafka/topics.h"
#include "mutualaid/v1/admin.grpc.pb.h"
#include "mutualaid/v1/payout.grpc.pb.h"
#include "service_harness.h"
#include "services/payout/payout_api.h"
#include "services/payout/payout_logic.h"

namespace mutualaid {
namespace {

using testing::Call;

constexpr char kPlatformAccount[] = "31001234567890123";
constexpr char kPlatformName[] = "某外卖平台有限公司";
const absl::CivilDay kToday(2022, 6, 1);  // the simulated clock's start and the bank's day

int LuhnSum(const std::string& digits) {
  int sum = 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    int d = digits[digits.size() - 1 - i] - '0';
    if (i % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum;
}

// A Luhn-valid 16-digit card number; `closed` makes it end in 0000, which the
// fake bank refuses as ACCOUNT_CLOSED.
std::string Card(int serial, bool closed = false) {
  if (!closed) {
    const std::string body = absl::StrFormat("622202%09d", serial);
    const int check = (10 - LuhnSum(body + "0") % 10) % 10;
    return body + static_cast<char>('0' + check);
  }
  for (char x = '0'; x <= '9'; ++x) {
    std::string n = absl::StrFormat("622202%05d", serial % 100000) + x + "0000";
    if (LuhnSum(n) % 10 == 0) return n;
  }
  return "";
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

uint64_t Seed() {
  if (const char* s = std::getenv("MUTUALAID_TEST_SEED"); s != nullptr) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

// One claim as the claims service would decide it.
struct Claim {
  std::string id;
  std::string worker_key;
  int64_t amount_fen = 0;
  v1::Benefit benefit = v1::BENEFIT_HOSPITAL_ALLOWANCE;
  v1::ClaimStatus status = v1::CLAIM_STATUS_APPROVED;
  std::string card;
  absl::CivilDay due_by = kToday + 60;
  bool death() const {
    return benefit == v1::BENEFIT_ILLNESS_DEATH || benefit == v1::BENEFIT_ACCIDENTAL_DEATH;
  }
};

// The bank: fakebank as a child process on a fixed port (so a restarted bank
// is where the payout service expects it) with a ledger that survives it.
class Bank {
 public:
  Bank(std::filesystem::path dir, std::vector<std::string> faults)
      : dir_(std::move(dir)), port_(FreePort()), faults_(std::move(faults)) {}
  void Start(bool with_faults = true) {
    std::vector<std::string> args = {"--port", absl::StrCat(port_), "--ledger", ledger(),
                                     "--today", absl::FormatCivilTime(kToday), "--hang-ms", "1500"};
    if (with_faults) args.insert(args.end(), faults_.begin(), faults_.end());
    process_ = std::make_unique<testing::FakeProcess>(FAKEBANK_BINARY, args);
    ASSERT_TRUE(process_->started()) << "fakebank did not start";
  }
  // True when the bank does not answer: it crashed (--crash-after).
  bool Down() const {
    http::ClientOptions o;
    o.connect_timeout = absl::Milliseconds(300);
    o.timeout = absl::Seconds(3);
    http::Client c("127.0.0.1", port_, o);
    auto r = c.Get("/v1/ledger?day=1999-01-01");
    return !r.ok() && r.status().code() == absl::StatusCode::kUnavailable;
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }
  std::string ledger() const { return (dir_ / "ledger.jsonl").string(); }
  testing::FakeProcess& process() { return *process_; }
  void Stop() { process_.reset(); }

  // Every credit: key -> (amount, account). Fails the test on a key credited twice.
  std::map<std::string, std::pair<int64_t, std::string>> Credits() {
    http::Client c("127.0.0.1", port_);
    auto r = c.Get("/v1/ledger");
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    std::map<std::string, std::pair<int64_t, std::string>> out;
    if (!r.ok()) return out;
    json::Value v = testing::ParseOrDie(r->body);
    for (const json::Value& e : v.items()) {
      const std::string key = testing::Str(e, "idempotency_key");
      EXPECT_EQ(out.count(key), 0u) << "credited twice: " << key;
      out[key] = {e.Find("amount_fen")->Int64().value_or(-1), testing::Str(e, "payee_account")};
    }
    return out;
  }

 private:
  std::filesystem::path dir_;
  int port_;
  std::vector<std::string> faults_;
  std::unique_ptr<testing::FakeProcess> process_;
};

class PayoutServiceTest : public ::testing::Test {
 protected:
  // `extra`: config lines after the defaults below.
  void StartPayout(const std::string& bank_url, const std::string& extra = "") {
    svc_ = std::make_unique<testing::ServiceProcess>(
        PAYOUT_BINARY, "payout",
        absl::StrCat("clock.start = ", absl::FormatCivilTime(kToday), "\n",
                     "bank.url = ", bank_url, "\n",
                     "bank.timeout = 400ms\n"
                     "bank.connect_timeout = 300ms\n"
                     "payout.tick_interval = 50ms\n"
                     "payout.retry_base = 2s\n"
                     "payout.retry_max = 20s\n"
                     "payout.pending_recheck = 2s\n",
                     extra));
    ASSERT_NO_FATAL_FAILURE(svc_->Start());
    Connect();
    kafka::ProducerOptions po;
    po.client.bootstrap = std::getenv("MUTUALAID_KAFKA_BOOTSTRAP");
    auto p = kafka::Producer::Create(po);
    ASSERT_TRUE(p.ok()) << p.status();
    producer_ = *std::move(p);
  }
  void Connect() {
    stub_ = v1::PayoutService::NewStub(svc_->channel());
    admin_ = v1::AdminService::NewStub(svc_->channel());
  }
  void Restart() {
    ASSERT_NO_FATAL_FAILURE(svc_->Start());
    Connect();
  }
  std::string Topic(absl::string_view name) const { return svc_->prefix() + std::string(name); }

  void TearDown() override {
    StopClockPump();
    producer_.reset();
  }

  // The simulated clock moves 10 s every 100 ms (so backoffs of seconds pass),
  // and is set again after a restart (which resets it to clock.start).
  void StartClockPump() {
    pump_stop_ = false;
    pump_ = std::thread([this] {
      absl::Time t = ShanghaiTime(kToday, 9);
      while (!pump_stop_.load()) {
        t += absl::Seconds(10);
        {
          std::shared_ptr<grpc::Channel> ch;
          {
            absl::MutexLock l(&pump_mu_);
            ch = svc_ ? svc_->channel() : nullptr;
          }
          if (ch) {
            auto admin = v1::AdminService::NewStub(ch);
            v1::SetClockRequest req;
            *req.mutable_now() = events::ToProto(t);
            v1::ClockState resp;
            (void)admin->SetClock(Call(testing::kOperations, absl::Seconds(2)).get(), req, &resp);
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  void StopClockPump() {
    pump_stop_ = true;
    if (pump_.joinable()) pump_.join();
  }

  void Append(v1::Envelope env, const std::string& topic, int32_t partition = kafka::kAnyPartition) {
    kafka::Record r = events::ToRecord(topic, std::move(env));
    r.partition = partition;
    auto a = producer_->Append(r);
    ASSERT_TRUE(a.ok()) << a.status();
  }

  void RegisterPlatform() {
    for (int32_t p = 0; p < 3; ++p) {
      events::EnvelopeHeader h{absl::StrCat("enrollment-request/platform-", p, "/platform"),
                               "platform:P01", kToday, ShanghaiTime(kToday, 8), "", "platform/P01",
                               "enrollment-test"};
      v1::Envelope env = events::NewEnvelope(h);
      v1::Platform* pl = env.mutable_platform_registered()->mutable_platform();
      pl->set_platform_id("P01");
      pl->set_name(kPlatformName);
      pl->set_payout_account(kPlatformAccount);
      ASSERT_NO_FATAL_FAILURE(Append(env, Topic(kafka::kEnrollmentEvents), p));
    }
  }

  v1::ClaimDecision Decision(const Claim& c, v1::ClaimStatus status) {
    v1::ClaimDecision d;
    d.set_claim_id(c.id);
    d.set_status(status);
    d.set_benefit(c.benefit);
    d.set_plan_year(2022);
    d.set_platform_id("P01");
    d.set_amount_fen(status == v1::CLAIM_STATUS_DENIED ? 0 : c.amount_fen);
    d.set_payee(c.death() ? v1::PAYEE_KIND_PLATFORM_ACCOUNT : v1::PAYEE_KIND_WORKER_CARD);
    *d.mutable_received_on() = events::ToProto(c.due_by - 90);
    *d.mutable_due_by() = events::ToProto(c.due_by);
    d.set_site("浦东新区");
    return d;
  }

  // What the claims service appends when it decides `c` at filing.
  void Decide(const Claim& c, v1::ClaimStatus status) {
    events::EnvelopeHeader h{absl::StrCat("claim-request/", c.id, "/decided"), c.worker_key, kToday,
                             ShanghaiTime(kToday, 9), "sh-gig-mutual-aid-2022",
                             absl::StrCat("claim/", c.id), "claims-test"};
    v1::Envelope env = events::NewEnvelope(h);
    v1::ClaimDecided* x = env.mutable_claim_decided();
    *x->mutable_claim() = Decision(c, status);
    v1::ClaimApplication* app = x->mutable_filed()->mutable_application();
    app->set_claim_id(c.id);
    app->set_site("浦东新区");
    if (!c.death()) {
      app->mutable_payee_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
      app->mutable_payee_card()->set_card_number(c.card);
      app->mutable_payee_card()->set_holder_name("张三");
    } else {
      app->set_platform_id("P01");
    }
    ASSERT_NO_FATAL_FAILURE(Append(env, Topic(kafka::kClaimsEvents)));
  }
  void Investigate(const Claim& c, bool approve) {
    events::EnvelopeHeader h{absl::StrCat("claim-request/", c.id, "/investigated"), c.worker_key,
                             kToday, ShanghaiTime(kToday, 10), "sh-gig-mutual-aid-2022",
                             absl::StrCat("investigation/", c.id), "claims-test"};
    v1::Envelope env = events::NewEnvelope(h);
    v1::ClaimInvestigationDecided* x = env.mutable_claim_investigation_decided();
    *x->mutable_claim() = Decision(c, approve ? v1::CLAIM_STATUS_APPROVED : v1::CLAIM_STATUS_DENIED);
    x->set_approved(approve);
    x->set_investigator("investigator:zhao");
    ASSERT_NO_FATAL_FAILURE(Append(env, Topic(kafka::kClaimsEvents)));
  }
  // Something else in the claims topic the payout service must ignore.
  void Noise(const Claim& c) {
    events::EnvelopeHeader h{absl::StrCat("claim-paid/", c.id), c.worker_key, kToday,
                             ShanghaiTime(kToday, 9), "", "x", "claims-test"};
    v1::Envelope env = events::NewEnvelope(h);
    env.mutable_claim_paid()->set_claim_id(c.id);
    ASSERT_NO_FATAL_FAILURE(Append(env, Topic(kafka::kClaimsEvents)));
    kafka::Record garbage{Topic(kafka::kClaimsEvents), c.worker_key, "not an envelope", {}, kafka::kAnyPartition};
    ASSERT_TRUE(producer_->Append(garbage).ok());
  }

  std::vector<v1::Payout> List(v1::PayoutStatus status = v1::PAYOUT_STATUS_UNSPECIFIED,
                               const char* token = testing::kFinance) {
    std::vector<v1::Payout> out;
    v1::ListPayoutsRequest req;
    req.set_status(status);
    req.mutable_page()->set_page_size(1000);
    v1::ListPayoutsResponse resp;
    grpc::Status s = stub_->ListPayouts(Call(token, absl::Seconds(5)).get(), req, &resp);
    if (!s.ok()) return out;
    for (const v1::Payout& p : resp.payouts()) out.push_back(p);
    return out;
  }
  std::optional<v1::Payout> Get(const std::string& claim_id, const char* token = testing::kFinance) {
    v1::GetPayoutRequest req;
    req.set_claim_id(claim_id);
    v1::GetPayoutResponse resp;
    if (!stub_->GetPayout(Call(token, absl::Seconds(5)).get(), req, &resp).ok()) return std::nullopt;
    return resp.payout();
  }

  // Waits until `done()` or `timeout`; false on timeout.
  template <typename F>
  bool WaitFor(F done, absl::Duration timeout) {
    const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return done();
  }

  // Runs `mutualctl payout ARGS` against the service as `token`; exit code and output.
  std::pair<int, std::string> Ctl(const std::string& args, const char* token = testing::kFinance) {
    const std::filesystem::path token_file = svc_->dir() / "ctl.token";
    std::ofstream(token_file) << token << "\n";
    const std::string cmd = absl::StrCat(MUTUALCTL_BINARY, " payout ", args, " --server ",
                                         svc_->address(), " --token-file ", token_file.string(), " 2>&1");
    std::string out;
    FILE* f = ::popen(cmd.c_str(), "r");
    if (f == nullptr) return {-1, ""};
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    const int status = ::pclose(f);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }

  // Claims of every kind: `n` worker-card claims, two deaths, denied ones.
  std::vector<Claim> MakeClaims(int n, int first_serial = 0) {
    std::vector<Claim> out;
    for (int i = 0; i < n; ++i) {
      Claim c;
      c.id = absl::StrFormat("C2022%06d", first_serial + i);
      c.worker_key = absl::StrFormat("%064x", 0xabc000 + first_serial + i);
      c.amount_fen = 10000 + 137 * (first_serial + i);
      c.card = Card(first_serial + i);
      out.push_back(c);
    }
    return out;
  }

  std::unique_ptr<testing::ServiceProcess> svc_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<v1::PayoutService::Stub> stub_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  absl::Mutex pump_mu_;
  std::atomic<bool> pump_stop_{true};
  std::thread pump_;
};

// The ledger holds one credit per approved claim (the key is the claim id, or
// claim#issue after a re-issue), its amount, to the right account; no other.
void ExpectPaidOnce(const std::map<std::string, std::pair<int64_t, std::string>>& credits,
                    const std::vector<Claim>& approved) {
  std::set<std::string> expected;
  for (const Claim& c : approved) {
    expected.insert(c.id);
    auto it = credits.find(c.id);
    ASSERT_NE(it, credits.end()) << "not paid: " << c.id;
    EXPECT_EQ(it->second.first, c.amount_fen) << c.id;
    EXPECT_EQ(it->second.second, c.death() ? std::string(kPlatformAccount) : c.card) << c.id;
  }
  for (const auto& [key, credit] : credits) {
    EXPECT_EQ(expected.count(key), 1u) << "credited but not an approved claim: " << key;
  }
  EXPECT_EQ(credits.size(), approved.size());
}

TEST_F(PayoutServiceTest, PaysEachApprovedClaimOnceThroughBankFaults) {
  const std::filesystem::path dir = testing::TempDir();
  const uint64_t seed = Seed();
  std::printf("seed %llu (MUTUALAID_TEST_SEED)\n", static_cast<unsigned long long>(seed));
  // Faults: 20% 5xx, 20% timeouts (transfer made, answer lost), status
  // queries hit too, and the bank crashes on its 25th request.
  Bank bank(dir, {"--error-rate", "0.2", "--timeout-rate", "0.2", "--fault-queries", "--seed",
                  absl::StrCat(seed % 100000), "--crash-after", "25"});
  ASSERT_NO_FATAL_FAILURE(bank.Start());
  ASSERT_NO_FATAL_FAILURE(StartPayout(bank.url()));
  ASSERT_NO_FATAL_FAILURE(RegisterPlatform());
  StartClockPump();

  std::vector<Claim> claims = MakeClaims(24);
  claims[3].benefit = v1::BENEFIT_ILLNESS_DEATH;
  claims[3].amount_fen = 5000000;
  claims[9].benefit = v1::BENEFIT_ACCIDENTAL_DEATH;
  claims[9].amount_fen = 8000000;
  std::vector<Claim> approved;
  for (size_t i = 0; i < claims.size(); ++i) {
    const Claim& c = claims[i];
    if (i % 8 == 5) {
      ASSERT_NO_FATAL_FAILURE(Decide(c, v1::CLAIM_STATUS_DENIED));
    } else if (i % 8 == 6) {
      // 调查核实: approved by the investigator (the card comes from the filing).
      ASSERT_NO_FATAL_FAILURE(Decide(c, v1::CLAIM_STATUS_INVESTIGATING));
      ASSERT_NO_FATAL_FAILURE(Investigate(c, true));
      approved.push_back(c);
    } else if (i % 8 == 7) {
      ASSERT_NO_FATAL_FAILURE(Decide(c, v1::CLAIM_STATUS_INVESTIGATING));
      ASSERT_NO_FATAL_FAILURE(Investigate(c, false));
    } else {
      ASSERT_NO_FATAL_FAILURE(Decide(c, v1::CLAIM_STATUS_APPROVED));
      if (i % 5 == 0) {
        ASSERT_NO_FATAL_FAILURE(Decide(c, v1::CLAIM_STATUS_APPROVED));  // repeated
      }
      ASSERT_NO_FATAL_FAILURE(Noise(c));
      approved.push_back(c);
    }
  }

  bool restarted = false;
  const bool all_confirmed = WaitFor(
      [&] {
        if (!restarted && bank.Down()) {
          // The bank crashed on its 25th request: start it again, faults off.
          EXPECT_TRUE(bank.process().WaitExit().has_value());
          bank.Start(/*with_faults=*/false);
          restarted = true;
        }
        return List(v1::PAYOUT_STATUS_CONFIRMED).size() == approved.size();
      },
      absl::Seconds(120));
  StopClockPump();
  ASSERT_TRUE(all_confirmed) << "confirmed " << List(v1::PAYOUT_STATUS_CONFIRMED).size() << " of "
                             << approved.size() << "; payout log:\n"
                             << svc_->Log();
  EXPECT_TRUE(restarted) << "the bank was meant to crash once";
  // The faults were met: some payouts needed more than one attempt.
  int retried = 0;
  for (const v1::Payout& p : List()) retried += p.attempts() > 1 ? 1 : 0;
  std::printf("%d of %zu payouts needed more than one attempt\n", retried, approved.size());
  EXPECT_GT(retried, 0);
  EXPECT_EQ(List().size(), approved.size());  // denied claims: no payout
  ExpectPaidOnce(bank.Credits(), approved);
  // The death benefits went to the platform, as the payout records say.
  auto death = Get(claims[3].id);
  ASSERT_TRUE(death.has_value());
  EXPECT_EQ(death->payee(), v1::PAYEE_KIND_PLATFORM_ACCOUNT);
  EXPECT_EQ(death->payee_account(), kPlatformAccount);
  EXPECT_EQ(death->payee_name(), kPlatformName);
  // The hall reads payouts without the account number.
  auto seen_by_hall = Get(claims[0].id, testing::kHall);
  ASSERT_TRUE(seen_by_hall.has_value());
  EXPECT_TRUE(seen_by_hall->payee_account().empty());
  EXPECT_EQ(seen_by_hall->account_last4(), claims[0].card.substr(12));
}

TEST_F(PayoutServiceTest, SurvivesSigkillAtRandomInstants) {
  const std::filesystem::path dir = testing::TempDir();
  const uint64_t seed = Seed();
  std::printf("seed %llu (MUTUALAID_TEST_SEED)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  Bank bank(dir, {"--timeout-rate", "0.1", "--error-rate", "0.1", "--seed", absl::StrCat(seed % 100000)});
  ASSERT_NO_FATAL_FAILURE(bank.Start());
  ASSERT_NO_FATAL_FAILURE(StartPayout(bank.url()));
  ASSERT_NO_FATAL_FAILURE(RegisterPlatform());
  StartClockPump();

  std::vector<Claim> claims = MakeClaims(40, 100);
  claims[7].benefit = v1::BENEFIT_ILLNESS_DEATH;
  constexpr int kKills = 6;
  size_t next = 0;
  int kills = 0;
  for (int round = 0; round < kKills; ++round) {
    // Some claims arrive, the service works for a random while, then dies.
    const size_t upto = std::min(claims.size(), next + claims.size() / kKills + 1);
    for (; next < upto; ++next) ASSERT_NO_FATAL_FAILURE(Decide(claims[next], v1::CLAIM_STATUS_APPROVED));
    // Kill while it works: once it has recorded some of the new payouts,
    // after a random further while (sends, timeouts and commits in flight).
    const size_t recorded_before = List().size();
    WaitFor([&] { return List().size() > recorded_before; }, absl::Seconds(30));
    const int ms = std::uniform_int_distribution<int>(0, 400)(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    const size_t confirmed = List(v1::PAYOUT_STATUS_CONFIRMED).size();
    const size_t recorded = List().size();
    {
      absl::MutexLock l(&pump_mu_);
      svc_->Kill();
    }
    ++kills;
    std::printf("SIGKILL %d, %d ms after new payouts appeared: %zu recorded, %zu confirmed\n", kills,
                ms, recorded, confirmed);
    absl::MutexLock l(&pump_mu_);
    ASSERT_NO_FATAL_FAILURE(Restart());
  }
  for (; next < claims.size(); ++next) ASSERT_NO_FATAL_FAILURE(Decide(claims[next], v1::CLAIM_STATUS_APPROVED));

  const bool all_confirmed = WaitFor(
      [&] { return List(v1::PAYOUT_STATUS_CONFIRMED).size() == claims.size(); }, absl::Seconds(120));
  StopClockPump();
  ASSERT_TRUE(all_confirmed) << "confirmed " << List(v1::PAYOUT_STATUS_CONFIRMED).size() << " of "
                             << claims.size() << " after " << kills << " kills; log:\n"
                             << svc_->Log();
  ExpectPaidOnce(bank.Credits(), claims);
}

TEST_F(PayoutServiceTest, BatchFileRoundTrip) {
  const std::filesystem::path dir = testing::TempDir();
  Bank bank(dir, {});  // only its ledger is used: the batch goes through process-file
  ASSERT_NO_FATAL_FAILURE(StartPayout("http://127.0.0.1:1",
                                      "bank.mode = file\n"
                                      "bank.export_dir = export\n"
                                      "bank.import_dir = import\n"
                                      "bank.export_interval = 0s\n"));
  ASSERT_NO_FATAL_FAILURE(RegisterPlatform());
  std::vector<Claim> claims = MakeClaims(6, 200);
  claims[2].benefit = v1::BENEFIT_ACCIDENTAL_DEATH;
  Claim closed = claims[5];
  closed.card = Card(205, /*closed=*/true);
  claims[5] = closed;
  for (const Claim& c : claims) ASSERT_NO_FATAL_FAILURE(Decide(c, v1::CLAIM_STATUS_APPROVED));

  // Exported: every payout SENT, in batch files.
  ASSERT_TRUE(WaitFor([&] { return List(v1::PAYOUT_STATUS_SENT).size() == claims.size(); },
                      absl::Seconds(60)))
      << svc_->Log();
  const std::filesystem::path exported = svc_->dir() / "export";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(exported)) {
    if (e.path().extension() == ".csv") files.push_back(e.path());
  }
  ASSERT_FALSE(files.empty());
  std::filesystem::create_directories(svc_->dir() / "import");
  int rows = 0;
  for (const auto& f : files) {
    const std::string batch = testing::ReadFile(f);
    EXPECT_EQ(batch.rfind("idempotency_key,amount_fen,payee_kind,payee_account,payee_name,memo\r\n", 0), 0u);
    const std::filesystem::path result = svc_->dir() / "import" / f.filename();
    ASSERT_EQ(testing::RunToExit(FAKEBANK_BINARY, {"process-file", f.string(), result.string(),
                                                   "--ledger", bank.ledger(), "--today",
                                                   absl::FormatCivilTime(kToday)}),
              0);
    // One import by content, one by name from the import directory.
    v1::ImportBankResultsRequest req;
    req.set_file_name(f.filename().string());
    if (rows == 0) req.set_content(testing::ReadFile(result));
    v1::ImportBankResultsResponse resp;
    grpc::Status s = stub_->ImportBankResults(Call(testing::kFinance).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.applied(), resp.rows()) << resp.DebugString();
    rows += resp.rows();
    // The same file again changes nothing.
    v1::ImportBankResultsResponse again;
    ASSERT_TRUE(stub_->ImportBankResults(Call(testing::kFinance).get(), req, &again).ok());
    EXPECT_EQ(again.applied(), 0);
    EXPECT_EQ(again.unchanged(), again.rows());
  }
  EXPECT_EQ(rows, static_cast<int>(claims.size()));
  ASSERT_TRUE(WaitFor([&] { return List(v1::PAYOUT_STATUS_CONFIRMED).size() == claims.size() - 1; },
                      absl::Seconds(30)));
  auto failed = Get(closed.id);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->status(), v1::PAYOUT_STATUS_FAILED);
  EXPECT_NE(failed->failure_reason().find("ACCOUNT_CLOSED"), std::string::npos) << failed->failure_reason();

  // The bank's ledger, read from the journal process-file wrote.
  bank.Start(false);
  std::vector<Claim> paid(claims.begin(), claims.end() - 1);
  ExpectPaidOnce(bank.Credits(), paid);
}

TEST_F(PayoutServiceTest, ReissueAfterClosedAccountPaysOnceToCorrectedCard) {
  const std::filesystem::path dir = testing::TempDir();
  Bank bank(dir, {});
  ASSERT_NO_FATAL_FAILURE(bank.Start());
  ASSERT_NO_FATAL_FAILURE(StartPayout(bank.url()));
  Claim c = MakeClaims(1, 300).front();
  c.card = Card(300, /*closed=*/true);
  ASSERT_NO_FATAL_FAILURE(Decide(c, v1::CLAIM_STATUS_APPROVED));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto p = Get(c.id);
        return p.has_value() && p->status() == v1::PAYOUT_STATUS_FAILED;
      },
      absl::Seconds(60)))
      << svc_->Log();
  EXPECT_NE(Get(c.id)->failure_reason().find("ACCOUNT_CLOSED"), std::string::npos);

  v1::ReissuePayoutRequest req;
  req.set_claim_id(c.id);
  req.set_reason("worker gave a new union member card");
  const std::string corrected = Card(301);
  req.mutable_corrected_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
  req.mutable_corrected_card()->set_card_number(corrected);
  req.mutable_corrected_card()->set_holder_name("张三");
  v1::ReissuePayoutResponse resp;
  // Only finance re-issues.
  EXPECT_EQ(stub_->ReissuePayout(Call(testing::kHall).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A corrected card whose check digit is wrong is refused up front, naming the field.
  {
    v1::ReissuePayoutRequest bad = req;
    std::string number = corrected;
    number.back() = static_cast<char>('0' + (number.back() - '0' + 1) % 10);
    bad.mutable_corrected_card()->set_card_number(number);
    grpc::Status refused = stub_->ReissuePayout(Call(testing::kFinance).get(), bad, &resp);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
    EXPECT_NE(refused.error_message().find("corrected_card.card_number"), std::string::npos)
        << refused.error_message();
    EXPECT_EQ(Get(c.id)->status(), v1::PAYOUT_STATUS_FAILED);  // nothing re-issued
  }
  grpc::Status s = stub_->ReissuePayout(Call(testing::kFinance).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.payout().issue(), 2);
  EXPECT_EQ(resp.payout().bank_key(), c.id + "#2");
  ASSERT_TRUE(WaitFor(
      [&] {
        auto p = Get(c.id);
        return p.has_value() && p->status() == v1::PAYOUT_STATUS_CONFIRMED;
      },
      absl::Seconds(60)))
      << svc_->Log();
  // A second re-issue of a paid payout is refused.
  EXPECT_EQ(stub_->ReissuePayout(Call(testing::kFinance).get(), req, &resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  auto credits = bank.Credits();
  ASSERT_EQ(credits.size(), 1u);
  EXPECT_EQ(credits.begin()->first, c.id + "#2");
  EXPECT_EQ(credits.begin()->second.first, c.amount_fen);
  EXPECT_EQ(credits.begin()->second.second, corrected);
  // The corrected card was sealed at the edge (the harness configures a
  // master key): finance sees it opened, the hall the last four digits only.
  EXPECT_EQ(Get(c.id)->payee_account(), corrected);
  EXPECT_FALSE(Get(c.id)->has_sealed_account());
  EXPECT_EQ(Get(c.id)->account_last4(), corrected.substr(corrected.size() - 4));
  EXPECT_EQ(Get(c.id, testing::kHall)->payee_account(), "");
  EXPECT_EQ(Get(c.id, testing::kHall)->account_last4(), corrected.substr(corrected.size() - 4));
}

TEST_F(PayoutServiceTest, ReconciliationFindsPlantedDifferences) {
  const std::filesystem::path dir = testing::TempDir();
  Bank bank(dir, {});
  ASSERT_NO_FATAL_FAILURE(bank.Start());
  ASSERT_NO_FATAL_FAILURE(StartPayout(bank.url()));
  std::vector<Claim> claims = MakeClaims(3, 400);
  for (const Claim& c : claims) ASSERT_NO_FATAL_FAILURE(Decide(c, v1::CLAIM_STATUS_APPROVED));
  ASSERT_TRUE(WaitFor([&] { return List(v1::PAYOUT_STATUS_CONFIRMED).size() == claims.size(); },
                      absl::Seconds(60)))
      << svc_->Log();

  auto report = [&](const std::string& statement) {
    v1::GetReconciliationReportRequest req;
    *req.mutable_day() = events::ToProto(kToday);
    req.set_statement(statement);
    v1::GetReconciliationReportResponse resp;
    grpc::Status s = stub_->GetReconciliationReport(Call(testing::kFinance).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  };
  auto kinds = [](const v1::GetReconciliationReportResponse& r) {
    std::multiset<std::string> out;
    for (const auto& d : r.differences()) out.insert(absl::StrCat(d.kind(), " ", d.claim_id()));
    return out;
  };
  v1::GetReconciliationReportResponse clean = report("");
  EXPECT_EQ(clean.payouts(), 3);
  EXPECT_EQ(clean.bank_entries(), 3);
  EXPECT_TRUE(clean.differences().empty()) << clean.DebugString();

  // A credit at the bank no payout asked for.
  http::Client c = bank.process().Client();
  auto planted = c.Post("/v1/transfers",
                        R"({"idempotency_key": "stray-1", "amount_fen": 4200, "payee_kind": "WORKER_CARD",
                            "payee_account": ")" + Card(499) + R"(", "payee_name": "李四"})");
  ASSERT_TRUE(planted.ok() && planted->status == 200);
  v1::GetReconciliationReportResponse stray = report("");
  EXPECT_EQ(kinds(stray), (std::multiset<std::string>{"MISSING_IN_PAYOUTS "})) << stray.DebugString();

  // A statement missing one payout and with another's amount changed.
  std::string ledger = c.Get("/v1/ledger?day=" + absl::FormatCivilTime(kToday))->body;
  json::Value entries = testing::ParseOrDie(ledger);
  json::Value edited = json::Value::Array();
  for (const json::Value& e : entries.items()) {
    const std::string key = testing::Str(e, "idempotency_key");
    if (key == claims[0].id || key == "stray-1") continue;
    json::Value copy = e;
    if (key == claims[1].id) copy.Set("amount_fen", claims[1].amount_fen + 1);
    edited.Append(copy);
  }
  v1::GetReconciliationReportResponse diff = report(json::Write(edited));
  EXPECT_EQ(kinds(diff), (std::multiset<std::string>{"MISSING_AT_BANK " + claims[0].id,
                                                     "AMOUNT_DIFFERS " + claims[1].id}))
      << diff.DebugString();

  // The same through mutualctl: exit code 3 when there are differences.
  auto [code, out] = Ctl(absl::StrCat("reconcile --day ", absl::FormatCivilTime(kToday)));
  EXPECT_EQ(code, 3) << out;
  EXPECT_NE(out.find("MISSING_IN_PAYOUTS"), std::string::npos) << out;
  auto [list_code, listed] = Ctl("list --status confirmed");
  EXPECT_EQ(list_code, 0) << listed;
  for (const Claim& cl : claims) EXPECT_NE(listed.find(cl.id), std::string::npos) << listed;

  // The hall does not reconcile.
  v1::GetReconciliationReportRequest req;
  *req.mutable_day() = events::ToProto(kToday);
  v1::GetReconciliationReportResponse resp;
  EXPECT_EQ(stub_->GetReconciliationReport(Call(testing::kHall).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(PayoutServiceTest, AtRiskByDueDateWithSimulatedClock) {
  // No bank answers (nothing listens on the port): payouts stay unpaid.
  const int metrics_port = FreePort();
  ASSERT_NO_FATAL_FAILURE(StartPayout(absl::StrCat("http://127.0.0.1:", FreePort()),
                                      absl::StrCat("metrics.listen = 127.0.0.1:", metrics_port, "\n")));
  std::vector<Claim> claims = MakeClaims(3, 500);
  claims[0].due_by = kToday - 1;   // overdue already
  claims[1].due_by = kToday + 5;   // due within 10 days
  claims[2].due_by = kToday + 20;  // not yet at risk
  for (const Claim& c : claims) ASSERT_NO_FATAL_FAILURE(Decide(c, v1::CLAIM_STATUS_APPROVED));
  ASSERT_TRUE(WaitFor([&] { return List().size() == claims.size(); }, absl::Seconds(60))) << svc_->Log();

  auto at_risk = [&](int within) {
    v1::ListAtRiskRequest req;
    req.set_within_days(within);
    v1::ListAtRiskResponse resp;
    grpc::Status s = stub_->ListAtRisk(Call(testing::kHall).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::pair<std::vector<std::string>, std::vector<std::string>> out;
    for (const auto& p : resp.overdue()) out.first.push_back(p.claim_id());
    for (const auto& p : resp.due_soon()) out.second.push_back(p.claim_id());
    return out;
  };
  using Ids = std::vector<std::string>;
  auto now = at_risk(0);  // the configured 10 days
  EXPECT_EQ(now.first, Ids{claims[0].id});
  EXPECT_EQ(now.second, Ids{claims[1].id});
  EXPECT_EQ(at_risk(30).second, (Ids{claims[1].id, claims[2].id}));

  // Sixteen days later the second is overdue and the third within ten days.
  v1::AdvanceClockRequest adv;
  adv.set_days(16);
  v1::ClockState clock;
  ASSERT_TRUE(admin_->AdvanceClock(Call(testing::kOperations).get(), adv, &clock).ok());
  auto later = at_risk(0);
  EXPECT_EQ(later.first, (Ids{claims[0].id, claims[1].id}));
  EXPECT_EQ(later.second, Ids{claims[2].id});
  // The counts the metrics endpoint serves.
  http::Client metrics("127.0.0.1", metrics_port);
  auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped.ok()) << scraped.status();
  EXPECT_NE(scraped->body.find("mutualaid_payouts_at_risk{kind=\"overdue\"} 2"), std::string::npos)
      << scraped->body;
  EXPECT_NE(scraped->body.find("mutualaid_payouts_at_risk{kind=\"due_soon\"} 1"), std::string::npos);
  auto [code, out] = Ctl("at-risk", testing::kHall);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("not paid within 90 days): 2"), std::string::npos) << out;
  EXPECT_NE(out.find("due soon: 1"), std::string::npos) << out;
}


// --- The outbox's decisions, with a scripted bank and no broker -------------
//
// The processor's loop is played by hand: Decide/Tick, then Apply of what they
// appended, into a RocksDB store in a temporary directory.

class ScriptedBank final : public payout::BankGateway {
 public:
  std::string mode() const override { return mode_; }
  std::vector<absl::StatusOr<payout::TransferAnswer>> Send(const std::vector<payout::Transfer>& transfers,
                                                           const std::string&) override {
    std::vector<absl::StatusOr<payout::TransferAnswer>> out;
    for (const payout::Transfer& t : transfers) {
      calls.push_back("send " + t.idempotency_key);
      accounts.push_back(t.payee_account + " " + t.payee_name);
      out.push_back(Next(sends));
    }
    return out;
  }
  absl::StatusOr<payout::TransferAnswer> Query(const std::string& key) override {
    calls.push_back("query " + key);
    return Next(queries);
  }
  absl::StatusOr<std::vector<payout::LedgerEntry>> Ledger(std::optional<absl::CivilDay>) override {
    return absl::UnimplementedError("scripted");
  }
  static payout::TransferAnswer Answer(payout::TransferAnswer::Status s, std::string reason = "") {
    payout::TransferAnswer a;
    a.status = s;
    a.transfer_id = "FB1";
    a.reason = std::move(reason);
    return a;
  }
  std::deque<absl::StatusOr<payout::TransferAnswer>> sends, queries;
  std::vector<std::string> calls;
  std::vector<std::string> accounts;  // "account name" of every transfer sent
  std::string mode_ = "http";         // "file": Tick exports batches

 private:
  static absl::StatusOr<payout::TransferAnswer> Next(std::deque<absl::StatusOr<payout::TransferAnswer>>& q) {
    if (q.empty()) return Answer(payout::TransferAnswer::Status::kConfirmed);
    auto a = q.front();
    q.pop_front();
    return a;
  }
};

class PayoutLogicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir();
    payout::PayoutOptions o;
    o.gateway = &bank_;
    o.retry_base = absl::Seconds(30);
    o.retry_max = absl::Minutes(10);
    logic_ = std::make_unique<payout::PayoutLogic>(o);
    store::StateStore::Options so;
    so.column_families = logic_->ColumnFamilies();
    auto s = store::StateStore::Open((dir_ / "store").string(), so);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
  }

  // Applies `events` as the processor would after their commit.
  void ApplyAll(const std::vector<kafka::Record>& events) {
    processor::State state(*store_);
    for (const kafka::Record& r : events) {
      kafka::Message m{"mutualaid.payout.events", 0, -1, r.key, r.value, r.headers, {}};
      ASSERT_TRUE(logic_->Apply(state, m).ok());
    }
    store::Batch b = store_->NewBatch();
    state.MoveTo(b);
    ASSERT_TRUE(store_->Commit(b).ok());
  }
  std::vector<std::string> Decide(const v1::Envelope& claim_event) {
    kafka::Message m{"mutualaid.claims.events", 0, 0, claim_event.worker_key(),
                     claim_event.SerializeAsString(), {}, {}};
    processor::State state(*store_);
    std::vector<kafka::Record> out;
    EXPECT_TRUE(logic_->Decide(state, m, &out).ok());
    ApplyAll(out);
    return Types(out);
  }
  std::vector<std::string> Tick(absl::Duration since_start) {
    processor::State state(*store_);
    std::vector<kafka::Record> out;
    EXPECT_TRUE(logic_->Tick(state, 0, ShanghaiTime(kToday, 9) + since_start, &out).ok());
    ApplyAll(out);
    return Types(out);
  }
  static std::vector<std::string> Types(const std::vector<kafka::Record>& records) {
    std::vector<std::string> out;
    for (const kafka::Record& r : records) {
      v1::Envelope e;
      e.ParseFromString(r.value);
      out.push_back(events::BodyType(e));
    }
    return out;
  }
  v1::Envelope Approved(const std::string& claim_id, v1::ClaimStatus status = v1::CLAIM_STATUS_APPROVED) {
    events::EnvelopeHeader h{"claim-request/" + claim_id + "/decided", "wk-1", kToday,
                             ShanghaiTime(kToday, 9), "", "claim/" + claim_id, "claims-test"};
    v1::Envelope env = events::NewEnvelope(h);
    v1::ClaimDecision* c = env.mutable_claim_decided()->mutable_claim();
    c->set_claim_id(claim_id);
    c->set_status(status);
    c->set_benefit(v1::BENEFIT_HOSPITAL_ALLOWANCE);
    c->set_amount_fen(status == v1::CLAIM_STATUS_APPROVED ? 12345 : 0);
    *c->mutable_due_by() = events::ToProto(kToday + 80);
    v1::PayeeCard* card = env.mutable_claim_decided()->mutable_filed()->mutable_application()->mutable_payee_card();
    card->set_card_number(Card(1));
    card->set_holder_name("张三");
    return env;
  }
  v1::Payout Payout(const std::string& claim_id) {
    auto raw = store_->Get(payout::kPayouts, payout::PayoutIdFor(claim_id));
    v1::PayoutState ps;
    if (raw.ok() && raw->has_value()) ps.ParseFromString(**raw);
    return ps.payout();
  }
  using Strings = std::vector<std::string>;

  std::filesystem::path dir_;
  ScriptedBank bank_;
  std::unique_ptr<payout::PayoutLogic> logic_;
  std::unique_ptr<store::StateStore> store_;
};

TEST_F(PayoutLogicTest, OnePayoutPerApprovedClaimOthersIgnored) {
  EXPECT_EQ(Decide(Approved("C1")), Strings{"payout_requested"});
  EXPECT_EQ(Decide(Approved("C1")), Strings{});  // the same approval again
  EXPECT_EQ(Decide(Approved("C2", v1::CLAIM_STATUS_DENIED)), Strings{});
  EXPECT_EQ(Decide(Approved("C3", v1::CLAIM_STATUS_INVESTIGATING)), Strings{});
  kafka::Message garbage{"mutualaid.claims.events", 0, 0, "wk-1", "not an envelope", {}, {}};
  processor::State state(*store_);
  std::vector<kafka::Record> out;
  EXPECT_TRUE(logic_->Decide(state, garbage, &out).ok());  // not ours to dead-letter
  EXPECT_TRUE(out.empty());
  const v1::Payout p = Payout("C1");
  EXPECT_EQ(p.status(), v1::PAYOUT_STATUS_REQUESTED);
  EXPECT_EQ(p.amount_fen(), 12345);
  EXPECT_EQ(p.bank_key(), "C1");
  EXPECT_EQ(p.payee_account(), Card(1));
}

TEST_F(PayoutLogicTest, TimeoutIsUnknownNextAttemptAsksFirstAndSendsOnlyIfBankHasNoRecord) {
  Decide(Approved("C1"));
  bank_.sends = {absl::DeadlineExceededError("timeout")};
  EXPECT_EQ(Tick(absl::ZeroDuration()), Strings{"payout_sent"});
  EXPECT_EQ(Payout("C1").status(), v1::PAYOUT_STATUS_SENT);
  EXPECT_EQ(Tick(absl::Seconds(10)), Strings{});  // backoff: not before 30 s
  bank_.queries = {ScriptedBank::Answer(payout::TransferAnswer::Status::kNotFound)};
  EXPECT_EQ(Tick(absl::Seconds(31)), (Strings{"payout_sent", "payout_confirmed"}));
  EXPECT_EQ(bank_.calls, (Strings{"send C1", "query C1", "send C1"}));
  EXPECT_EQ(Payout("C1").status(), v1::PAYOUT_STATUS_CONFIRMED);
  EXPECT_EQ(Tick(absl::Hours(1)), Strings{});  // paid: nothing more
  EXPECT_EQ(bank_.calls.size(), 3u);
}

TEST_F(PayoutLogicTest, TimeoutThenTheBankHasItConfirmedWithoutResending) {
  Decide(Approved("C1"));
  bank_.sends = {absl::UnknownError("connection reset after the request")};
  Tick(absl::ZeroDuration());
  bank_.queries = {ScriptedBank::Answer(payout::TransferAnswer::Status::kConfirmed)};
  EXPECT_EQ(Tick(absl::Minutes(1)), Strings{"payout_confirmed"});
  EXPECT_EQ(bank_.calls, (Strings{"send C1", "query C1"}));
}

TEST_F(PayoutLogicTest, RetriableFailuresBackOffExponentially) {
  Decide(Approved("C1"));
  for (int i = 0; i < 4; ++i) bank_.sends.push_back(absl::UnavailableError("connection refused"));
  // Attempts at 0 s, then 30 s, 60 s, 120 s after each failure.
  EXPECT_EQ(Tick(absl::ZeroDuration()), Strings{"payout_failed"});
  EXPECT_EQ(Tick(absl::Seconds(29)), Strings{});
  EXPECT_EQ(Tick(absl::Seconds(30)), Strings{"payout_failed"});
  EXPECT_EQ(Tick(absl::Seconds(89)), Strings{});
  EXPECT_EQ(Tick(absl::Seconds(90)), Strings{"payout_failed"});
  EXPECT_EQ(Tick(absl::Seconds(209)), Strings{});
  EXPECT_EQ(Tick(absl::Seconds(210)), Strings{"payout_failed"});
  EXPECT_EQ(Payout("C1").attempts(), 4);
  EXPECT_EQ(Payout("C1").status(), v1::PAYOUT_STATUS_REQUESTED);  // still to be paid
  EXPECT_EQ(Tick(absl::Seconds(450)), (Strings{"payout_sent", "payout_confirmed"}));
  EXPECT_EQ(bank_.calls.size(), 5u);  // never asked: nothing ever reached the bank
}

TEST_F(PayoutLogicTest, RefusalIsFinalForTheIssue) {
  Decide(Approved("C1"));
  bank_.sends = {ScriptedBank::Answer(payout::TransferAnswer::Status::kFailed, "ACCOUNT_CLOSED")};
  EXPECT_EQ(Tick(absl::ZeroDuration()), (Strings{"payout_sent", "payout_failed"}));
  EXPECT_EQ(Payout("C1").status(), v1::PAYOUT_STATUS_FAILED);
  EXPECT_NE(Payout("C1").failure_reason().find("ACCOUNT_CLOSED"), std::string::npos);
  EXPECT_EQ(Tick(absl::Hours(5)), Strings{});
  EXPECT_EQ(bank_.calls.size(), 1u);
}

// ReissuePayout's checks: a worker's corrected card needs a valid check digit.
TEST(CheckReissue, WrongCheckDigitNamesTheField) {
  v1::ReissuePayoutRequest req;
  req.set_claim_id("C1");
  req.set_reason("new card");
  req.mutable_corrected_card()->set_kind(v1::CARD_KIND_UNION_MEMBER_CARD);
  const std::string good = Card(7);
  req.mutable_corrected_card()->set_card_number(good);
  EXPECT_TRUE(payout::CheckReissue(req, v1::PAYEE_KIND_WORKER_CARD).ok());
  std::string bad = good;
  bad.back() = static_cast<char>('0' + (bad.back() - '0' + 1) % 10);
  req.mutable_corrected_card()->set_card_number(bad);
  absl::Status s = payout::CheckReissue(req, v1::PAYEE_KIND_WORKER_CARD);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("corrected_card.card_number"), std::string::npos) << s;
  EXPECT_NE(s.message().find("INVALID_CARD_NUMBER"), std::string::npos) << s;
}

// Commands (mutualaid.payout.requests) are PayoutCommands, never envelopes:
// the input barrier skips them even when the bytes would parse as an
// approved death (which needs the platform registry read first).
TEST(PayoutNeedsInputs, CommandsNeverWaitForInputs) {
  events::EnvelopeHeader h{"claim-request/D1/decided", "wk-1", kToday, ShanghaiTime(kToday, 9), "",
                           "claim/D1", "claims-test"};
  v1::Envelope env = events::NewEnvelope(h);
  v1::ClaimDecision* c = env.mutable_claim_decided()->mutable_claim();
  c->set_claim_id("D1");
  c->set_status(v1::CLAIM_STATUS_APPROVED);
  c->set_benefit(v1::BENEFIT_ILLNESS_DEATH);
  c->set_amount_fen(100);
  const std::string commands = "t1.mutualaid.payout.requests";
  kafka::Message as_event{"t1.mutualaid.claims.events", 0, 0, "wk-1", env.SerializeAsString(), {}, {}};
  EXPECT_TRUE(payout::PayoutLogic::NeedsInputs(as_event, commands));
  kafka::Message as_command = as_event;
  as_command.topic = commands;
  EXPECT_FALSE(payout::PayoutLogic::NeedsInputs(as_command, commands));
  v1::PayoutCommand cmd;
  cmd.set_request_id("reissue/D1/x");
  cmd.set_worker_key("wk-1");
  cmd.mutable_reissue()->set_claim_id("D1");
  as_command.value = cmd.SerializeAsString();
  EXPECT_FALSE(payout::PayoutLogic::NeedsInputs(as_command, commands));
}

// A worker's card sealed by the claims edge: the payout copies it sealed,
// shows the last four digits, and opens it only to hand the transfer to the
// bank; once the worker's key is erased the payout fails as
// PAYEE_DATA_ERASED (never an empty account sent).
class SealedPayoutLogicTest : public PayoutLogicTest {
 protected:
  void SetUp() override {
    PayoutLogicTest::SetUp();
    auto master = crypto::ParseMasterKey(crypto::NewMasterKeyHex(), "test");
    ASSERT_TRUE(master.ok()) << master.status();
    ring_ = std::make_unique<crypto::MemoryKeyRing>(*std::move(master));
  }
  v1::Envelope SealedApproval(const std::string& claim_id) {
    v1::Envelope env = Approved(claim_id);
    v1::ClaimFiled* filed = env.mutable_claim_decided()->mutable_filed();
    v1::PayeeCard card = filed->application().payee_card();
    card.set_kind(v1::CARD_KIND_SHANGHAI_DEBIT_CARD);
    auto sealed = crypto::SealField(*ring_, "wk-1", crypto::kFieldCard, card.SerializeAsString());
    EXPECT_TRUE(sealed.ok()) << sealed.status();
    *filed->mutable_sealed_card() = *sealed;
    filed->set_payee_card_last4(Card(1).substr(Card(1).size() - 4));
    filed->mutable_application()->clear_payee_card();
    filed->mutable_application()->mutable_payee_card()->set_kind(v1::CARD_KIND_SHANGHAI_DEBIT_CARD);
    return env;
  }
  std::string StoredPayoutBytes(const std::string& claim_id) {
    auto raw = store_->Get(payout::kPayouts, payout::PayoutIdFor(claim_id));
    return raw.ok() && raw->has_value() ? **raw : "";
  }
  std::unique_ptr<crypto::MemoryKeyRing> ring_;
};

TEST_F(SealedPayoutLogicTest, SealedCardOpenedOnlyToSend) {
  logic_->SetKeyRing(ring_.get());
  EXPECT_EQ(Decide(SealedApproval("C1")), Strings{"payout_requested"});
  const v1::Payout p = Payout("C1");
  EXPECT_TRUE(p.has_sealed_account());
  EXPECT_EQ(p.payee_account(), "");
  EXPECT_EQ(p.payee_name(), "");
  EXPECT_EQ(p.account_last4(), Card(1).substr(Card(1).size() - 4));
  EXPECT_EQ(p.card_kind(), v1::CARD_KIND_SHANGHAI_DEBIT_CARD);
  EXPECT_EQ(StoredPayoutBytes("C1").find(Card(1)), std::string::npos);
  EXPECT_EQ(Tick(absl::ZeroDuration()), (Strings{"payout_sent", "payout_confirmed"}));
  EXPECT_EQ(bank_.accounts, Strings{Card(1) + " 张三"});
  EXPECT_EQ(Payout("C1").status(), v1::PAYOUT_STATUS_CONFIRMED);
  EXPECT_TRUE(Payout("C1").has_sealed_account());  // the confirmation copies it sealed
  EXPECT_EQ(StoredPayoutBytes("C1").find(Card(1)), std::string::npos);
}

TEST_F(SealedPayoutLogicTest, ErasedKeyFailsWithPayeeDataErased) {
  logic_->SetKeyRing(ring_.get());
  Decide(SealedApproval("C1"));
  ASSERT_TRUE(ring_->Erase("wk-1", "operations:ops").ok());
  EXPECT_EQ(Tick(absl::ZeroDuration()), Strings{"payout_failed"});
  EXPECT_TRUE(bank_.calls.empty());  // nothing sent, no empty account
  EXPECT_EQ(Payout("C1").status(), v1::PAYOUT_STATUS_FAILED);
  EXPECT_NE(Payout("C1").failure_reason().find("PAYEE_DATA_ERASED"), std::string::npos)
      << Payout("C1").failure_reason();
  EXPECT_EQ(Tick(absl::Hours(2)), Strings{});  // final for this issue
  EXPECT_TRUE(bank_.calls.empty());
}

TEST_F(SealedPayoutLogicTest, FileModeErasedKeyKeepsThePayoutOutOfTheBatch) {
  bank_.mode_ = "file";
  logic_->SetKeyRing(ring_.get());
  Decide(SealedApproval("C1"));
  Decide(SealedApproval("C2"));
  ASSERT_TRUE(ring_->Erase("wk-1", "operations:ops").ok());
  // Both payouts are one worker's: erased, neither goes into a batch file.
  EXPECT_EQ(Tick(absl::ZeroDuration()), (Strings{"payout_failed", "payout_failed"}));
  EXPECT_TRUE(bank_.calls.empty());
  EXPECT_NE(Payout("C1").failure_reason().find("PAYEE_DATA_ERASED"), std::string::npos);
  EXPECT_EQ(Payout("C2").status(), v1::PAYOUT_STATUS_FAILED);
}

TEST_F(SealedPayoutLogicTest, FileModeWritesTheOpenedCard) {
  bank_.mode_ = "file";
  logic_->SetKeyRing(ring_.get());
  Decide(SealedApproval("C1"));
  EXPECT_EQ(Tick(absl::ZeroDuration()), Strings{"payout_sent"});
  EXPECT_EQ(bank_.accounts, Strings{Card(1) + " 张三"});
  EXPECT_EQ(Payout("C1").status(), v1::PAYOUT_STATUS_SENT);
  EXPECT_EQ(StoredPayoutBytes("C1").find(Card(1)), std::string::npos);
}

TEST_F(SealedPayoutLogicTest, NoKeyRingRetriesLater) {
  Decide(SealedApproval("C1"));  // decided without opening: no ring needed
  EXPECT_TRUE(Payout("C1").has_sealed_account());
  EXPECT_EQ(Tick(absl::ZeroDuration()), Strings{"payout_failed"});
  EXPECT_TRUE(bank_.calls.empty());
  EXPECT_EQ(Payout("C1").status(), v1::PAYOUT_STATUS_REQUESTED);  // retried later
  EXPECT_NE(Payout("C1").failure_reason().find("NO_KEY_RING"), std::string::npos);
  logic_->SetKeyRing(ring_.get());
  EXPECT_EQ(Tick(absl::Seconds(31)), (Strings{"payout_sent", "payout_confirmed"}));
  EXPECT_EQ(bank_.accounts, Strings{Card(1) + " 张三"});
}

}  // namespace
}  // namespace mutualaid
