// Crash consistency of StateStore, the leveldb fault_injection_test idea with
// real processes: a child commits a stream of batches (N state keys + the
// applied offset each) and is SIGKILLed at an arbitrary instant; the store is
// then reopened and must hold exactly the batches its offset says, no more,
// no fewer. A second test also tears the WAL tail, as a power cut would.
//
// Every RocksDB instance lives in a forked child (writer or verifier) so the
// test process itself never has RocksDB background threads when it forks.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mutualaid/store/keys.h"
#include "mutualaid/store/state_store.h"

namespace mutualaid::store {
namespace {

constexpr int kKeysPerBatch = 8;
constexpr char kTopic[] = "mutualaid.claims.requests";
constexpr int32_t kPartition = 2;
// Generous: only reached if something hangs; the test never sleeps.
constexpr int kProgressTimeoutMs = 60'000;

StateStore::Options StoreOptions() {
  StateStore::Options options;
  options.column_families = {"state", "meta"};
  return options;
}

// Child: resume from the stored offset and commit batches until killed.
// After each successful Commit it reports the new offset on `progress_fd`.
[[noreturn]] void WriterMain(const std::string& path, int progress_fd,
                             uint32_t seed) {
  absl::StatusOr<std::unique_ptr<StateStore>> store =
      StateStore::Open(path, StoreOptions());
  if (!store.ok()) _exit(2);
  absl::StatusOr<std::optional<int64_t>> start =
      (*store)->AppliedOffset(kTopic, kPartition);
  if (!start.ok()) _exit(3);
  int64_t next = start->value_or(0);
  std::mt19937 rng(seed);
  for (;;) {
    Batch batch = (*store)->NewBatch();
    for (int j = 0; j < kKeysPerBatch; ++j) {
      batch.Put("state", KeyBuilder().Int64(next).Uint64(j).Build(),
                std::string(16 + rng() % 400, static_cast<char>('a' + j)));
    }
    batch.Put("meta", "last_batch", EncodeInt64(next));
    batch.SetAppliedOffset(kTopic, kPartition, next + 1);
    if (!(*store)->Commit(batch).ok()) _exit(4);
    ++next;
    if (::write(progress_fd, &next, sizeof next) != sizeof next) _exit(5);
  }
}

struct Verdict {
  int64_t offset = -1;      // applied next offset (0 if none)
  int64_t keys = -1;        // keys in "state"
  int64_t bad_keys = -1;    // keys whose batch is >= offset or malformed
  int64_t last_batch = -2;  // meta/last_batch, -1 if absent
};

// Child: open the store, check it, report a Verdict.
[[noreturn]] void VerifierMain(const std::string& path, int out_fd) {
  absl::StatusOr<std::unique_ptr<StateStore>> store =
      StateStore::Open(path, StoreOptions());
  if (!store.ok()) _exit(2);
  Verdict v;
  absl::StatusOr<std::optional<int64_t>> off =
      (*store)->AppliedOffset(kTopic, kPartition);
  if (!off.ok()) _exit(3);
  v.offset = off->value_or(0);
  v.keys = 0;
  v.bad_keys = 0;
  absl::Status s = (*store)->Scan(
      "state", "", "", [&](absl::string_view key, absl::string_view) {
        ++v.keys;
        KeyReader r(key);
        std::optional<int64_t> batch = r.Int64();
        std::optional<uint64_t> j = r.Uint64();
        if (!batch || !j || !r.done() || *batch >= v.offset ||
            *j >= kKeysPerBatch) {
          ++v.bad_keys;
        }
        return true;
      });
  if (!s.ok()) _exit(4);
  absl::StatusOr<std::optional<std::string>> last =
      (*store)->Get("meta", "last_batch");
  if (!last.ok()) _exit(5);
  v.last_batch = last->has_value() ? DecodeInt64(**last).value_or(-3) : -1;
  if (!(*store)->Close().ok()) _exit(6);
  if (::write(out_fd, &v, sizeof v) != sizeof v) _exit(7);
  _exit(0);
}

class StateStoreCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (std::filesystem::path(::testing::TempDir()) /
             absl::StrCat("state_store_crash_", ::getpid(), "_", info->name()))
                .string();
    std::filesystem::remove_all(path_);
  }
  void TearDown() override { std::filesystem::remove_all(path_); }

  // Starts a writer, waits (bounded, no sleeps) until it has reported at
  // least `commits` commits, SIGKILLs it mid-stream and returns the last
  // offset it reported as committed.
  int64_t RunWriterAndKill(int commits, uint32_t seed) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      WriterMain(path_, fds[1], seed);
    }
    ::close(fds[1]);
    int64_t reported = -1;
    int seen = 0;
    while (seen < commits) {
      pollfd p{fds[0], POLLIN, 0};
      const int ready = ::poll(&p, 1, kProgressTimeoutMs);
      if (ready <= 0) {
        ADD_FAILURE() << "writer made no progress";
        break;
      }
      int64_t next = 0;
      const ssize_t n = ::read(fds[0], &next, sizeof next);
      if (n != sizeof next) {
        ADD_FAILURE() << "writer died early";
        break;
      }
      reported = next;
      ++seen;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    // Drain reports that were written before the kill landed: they too were
    // committed before being reported.
    int64_t next = 0;
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    while (::read(fds[0], &next, sizeof next) == sizeof next) reported = next;
    ::close(fds[0]);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "writer exited by itself, status " << status;
    return reported;
  }

  Verdict Verify() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      VerifierMain(path_, fds[1]);
    }
    ::close(fds[1]);
    Verdict v;
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, kProgressTimeoutMs) > 0) {
      EXPECT_EQ(::read(fds[0], &v, sizeof v), static_cast<ssize_t>(sizeof v));
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "verifier failed, status " << status;
    return v;
  }

  static void ExpectConsistent(const Verdict& v) {
    EXPECT_GE(v.offset, 0);
    EXPECT_EQ(v.keys, v.offset * kKeysPerBatch)
        << "state holds " << v.keys << " keys but offset says " << v.offset
        << " batches";
    EXPECT_EQ(v.bad_keys, 0);
    EXPECT_EQ(v.last_batch, v.offset - 1);
  }

  // The newest WAL file of the store.
  std::filesystem::path NewestWal() {
    std::filesystem::path newest;
    uint64_t newest_number = 0;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) {
      if (entry.path().extension() != ".log") continue;
      const uint64_t number = std::stoull(entry.path().stem().string());
      if (newest.empty() || number > newest_number) {
        newest = entry.path();
        newest_number = number;
      }
    }
    return newest;
  }

  std::string path_;
};

TEST_F(StateStoreCrashTest, KilledWriterLeavesStateAndOffsetsAgreeing) {
  std::mt19937 rng(20250301);
  int64_t previous = 0;
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const int commits = 20 + static_cast<int>(rng() % 300);
    const int64_t reported = RunWriterAndKill(commits, rng());
    ASSERT_GT(reported, previous);
    const Verdict v = Verify();
    ExpectConsistent(v);
    // A process crash loses nothing that Commit acknowledged (the WAL is in
    // the OS already); the kill may also land after a commit it never got to
    // report, hence >=.
    EXPECT_GE(v.offset, reported);
    previous = v.offset;
  }
}

TEST_F(StateStoreCrashTest, TornWalTailRecoversAConsistentPrefix) {
  std::mt19937 rng(4231);
  bool lost_any = false;
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const int64_t reported =
        RunWriterAndKill(50 + static_cast<int>(rng() % 200), rng());
    const std::filesystem::path wal = NewestWal();
    ASSERT_FALSE(wal.empty());
    const auto size = std::filesystem::file_size(wal);
    ASSERT_GT(size, 0u);
    // Cut somewhere in the last half: usually mid-record, as a power cut
    // that lost unsynced pages would.
    const auto cut = 1 + rng() % (size / 2);
    std::filesystem::resize_file(wal, size - cut);

    const Verdict v = Verify();
    ExpectConsistent(v);
    EXPECT_LE(v.offset, reported);
    lost_any |= v.offset < reported;
  }
  // The cuts did reach committed batches: recovery dropped whole batches,
  // never half of one.
  EXPECT_TRUE(lost_any);
}

}  // namespace
}  // namespace mutualaid::store
