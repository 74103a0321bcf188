// Durability of acknowledged writes: a child process writes through the store and reports every
// acknowledged id over a pipe; the parent SIGKILLs it mid-stream, reopens the file, and checks
// that every acknowledged record is there exactly once and the database is intact.
#include "tests/unit/store/store_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <poll.h>
#include <semaphore>
#include <signal.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace openbatch::store {
namespace {

using testing::make_record;
using testing::open_store;
using testing::page_query;
using testing::RawDb;
using testing::TempDir;

constexpr int kChildThreads = 4;
constexpr std::ptrdiff_t kInFlightPerThread = 32;
constexpr int kMaxPerThread = 100000;  // a bound in case the parent never kills the child
constexpr std::size_t kAcksBeforeKill = 3000;

// Runs in the forked child only; never returns. Each done(ok) writes "id\n" (one write, well
// under PIPE_BUF, so lines never interleave).
[[noreturn]] void run_writer_child(const std::string& path, int ack_fd) {
  alarm(60);  // the child must never outlive a broken parent
  auto opened = SqliteStore::open({.path = path});
  if (!opened) _exit(2);
  SqliteStore& store = **opened;
  std::vector<std::thread> threads;
  threads.reserve(kChildThreads);
  for (int t = 0; t < kChildThreads; ++t) {
    threads.emplace_back([&store, t, ack_fd] {
      std::counting_semaphore<kInFlightPerThread> slots(kInFlightPerThread);
      for (int i = 0; i < kMaxPerThread; ++i) {
        slots.acquire();
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        store.submit(
            [id](Writer& w) {
              Record r = make_record(id, "job", "active", std::string(200, 'x'));
              return w.insert(Table::Tasks, r);
            },
            [id, ack_fd, &slots](const Status& status) {
              if (status) {
                const std::string line = id + "\n";
                const ssize_t written = write(ack_fd, line.data(), line.size());
                (void)written;
              }
              slots.release();
            });
      }
      for (std::ptrdiff_t i = 0; i < kInFlightPerThread; ++i) slots.acquire();
    });
  }
  for (auto& thread : threads) thread.join();
  _exit(0);
}

// Kills and reaps the child if the test bails out early.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() { kill_and_reap(); }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  void kill_and_reap() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

// Reads from `fd` into `buffer` until it holds `lines` lines or `timeout` passes; false on EOF.
bool read_lines(int fd, std::string& buffer, std::size_t lines, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char chunk[4096];
  while (static_cast<std::size_t>(std::count(buffer.begin(), buffer.end(), '\n')) < lines) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return true;
    pollfd pfd{.fd = fd, .events = POLLIN, .revents = 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

std::vector<std::string> complete_lines(const std::string& buffer) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = buffer.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(buffer.substr(start, end - start));
  }
  return lines;
}

TEST(StoreDurability, EveryAcknowledgedInsertSurvivesSigkill) {
  TempDir dir;
  const std::string path = dir.file("durable.db");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    run_writer_child(path, fds[1]);
  }
  close(fds[1]);
  ChildGuard child(pid);

  std::string buffer;
  const bool alive = read_lines(fds[0], buffer, kAcksBeforeKill, std::chrono::seconds(20));
  ASSERT_TRUE(alive) << "the writer child exited early";
  child.kill_and_reap();  // mid-stream: more groups are in flight
  while (read_lines(fds[0], buffer, SIZE_MAX, std::chrono::seconds(5))) {
  }
  close(fds[0]);
  const std::vector<std::string> acked = complete_lines(buffer);
  ASSERT_GT(acked.size(), 0U);

  {
    RawDb raw(path);
    EXPECT_EQ(raw.scalar("PRAGMA integrity_check"), "ok");
  }
  auto store = open_store(path);
  ASSERT_NE(store, nullptr);
  auto reader = store->reader();
  std::map<std::string, int> stored;
  ListQuery query = page_query(Table::Tasks, "job", std::nullopt, 1000);
  for (auto page = reader->list(query); !page.empty(); page = reader->list(query)) {
    for (const auto& r : page) ++stored[r.id];
    query.after_seq = page.back().seq;
  }
  EXPECT_GE(stored.size(), acked.size());
  for (const auto& [id, copies] : stored) EXPECT_EQ(copies, 1) << id;
  std::size_t missing = 0;
  for (const auto& id : acked) missing += stored.count(id) == 1 ? 0 : 1;
  EXPECT_EQ(missing, 0U) << "of " << acked.size() << " acknowledged ids";
}

}  // namespace
}  // namespace openbatch::store
