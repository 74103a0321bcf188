// openbatch-bench-store_bench: measures the SQLite store alone -- T threads submitting write ops
// of 100 task inserts (~300-byte bodies) through group commit, then keyset pages deep inside
// the job; reports inserts/s, groups committed and the process's peak RSS.
#include "scheduler/store/sqlite_store.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

namespace {

using namespace openbatch;
using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Options {
  unsigned threads = 8;
  std::uint64_t tasks = 1000000;
  unsigned per_op = 100;
  unsigned window = 16;  // ops each thread keeps in flight (an API thread's open requests)
  std::size_t body_bytes = 300;
  bool sync_full = true;
  std::string dir;  // default: a fresh directory under the temp dir, removed after
};

double ms_since(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

std::string proc_status(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field))
      return line.substr(line.find_first_not_of(" \t", std::string(field).size()));
  }
  return "?";
}

double cpu_seconds_self() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// A body shaped like a stored CloudTask, padded to `bytes`.
std::string task_body(std::uint64_t n, std::size_t bytes) {
  std::string body = R"({"id":"task-)" + std::to_string(n) +
                     R"(","commandLine":"/bin/sh -c \"echo task )" + std::to_string(n) +
                     R"(\"","state":"active","constraints":{"maxTaskRetryCount":0},"pad":")";
  if (body.size() + 2 < bytes) body.append(bytes - body.size() - 2, 'x');
  body += "\"}";
  return body;
}

// Blocks a submitting thread while it has `window` ops in flight.
class Window {
 public:
  explicit Window(unsigned size) : free_(size) {}
  void acquire() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  // Notifies under the lock: once drain() can return, the Window may be destroyed.
  void release() {
    std::lock_guard lock(mutex_);
    ++free_;
    cv_.notify_all();
  }
  void drain(unsigned size) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return free_ == size; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  unsigned free_;
};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"openbatch-bench-store_bench: group-commit insert throughput of the SQLite store"};
  app.add_option("--threads", opt.threads, "submitting threads")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  app.add_option("--tasks", opt.tasks, "task records in all")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--per-op", opt.per_op, "inserts per write op")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  app.add_option("--window", opt.window, "ops in flight per thread")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4096u));
  app.add_option("--body-bytes", opt.body_bytes, "bytes of each record body")
      ->capture_default_str();
  app.add_flag("!--no-fsync-full", opt.sync_full, "synchronous=NORMAL instead of FULL");
  app.add_option("--dir", opt.dir,
                 "directory for the database (default: a temp dir, removed after)");
  CLI11_PARSE(app, argc, argv);

  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  std::printf("command: %s\n", command.c_str());

  bool remove_dir = false;
  if (opt.dir.empty()) {
    std::string pattern = (fs::temp_directory_path() / "openbatch-store-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      return 2;
    }
    opt.dir = pattern;
    remove_dir = true;
  }
  const std::string path = (fs::path(opt.dir) / "bench.db").string();
  auto opened = store::SqliteStore::open({.path = path, .synchronous_full = opt.sync_full});
  if (!opened) {
    std::fprintf(stderr, "store_bench: %s\n", opened.error().message.c_str());
    return 2;
  }
  auto& store = **opened;

  const std::uint64_t ops = (opt.tasks + opt.per_op - 1) / opt.per_op;
  std::atomic<std::uint64_t> next_op{0};
  std::atomic<std::uint64_t> failed_ops{0};
  std::atomic<std::uint64_t> inserted{0};
  std::vector<double> op_ms(ops);  // submit -> durable, per op (each slot written once)
  const double cpu_start = cpu_seconds_self();
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < opt.threads; ++t) {
    threads.emplace_back([&] {
      Window window(opt.window);
      for (std::uint64_t op = next_op++; op < ops; op = next_op++) {
        const std::uint64_t first = op * opt.per_op;
        const std::uint64_t last = std::min<std::uint64_t>(first + opt.per_op, opt.tasks);
        std::vector<store::Record> records;  // built off the writer thread, as the API does
        records.reserve(last - first);
        for (std::uint64_t n = first; n < last; ++n) {
          store::Record& r = records.emplace_back();
          r.id = "task-" + std::to_string(n);
          r.parent = "BigJob";
          r.state = "active";
          r.body = task_body(n, opt.body_bytes);
        }
        window.acquire();
        const auto submitted = SteadyClock::now();
        store.submit(
            [records = std::move(records), &inserted](store::Writer& w) mutable {
              std::uint64_t ok = 0;
              for (auto& r : records) ok += w.insert(store::Table::Tasks, r) ? 1 : 0;
              inserted += ok;
              return ok == records.size();
            },
            [&, op, submitted](const Status& status) {
              op_ms[op] = ms_since(submitted);
              if (!status) ++failed_ops;
              window.release();
            });
      }
      window.drain(opt.window);
    });
  }
  for (auto& t : threads) t.join();
  const double total_ms = ms_since(start);
  const double cpu_used = cpu_seconds_self() - cpu_start;
  const auto stats = store.stats();

  std::sort(op_ms.begin(), op_ms.end());
  auto rank = [&](double q) {
    return op_ms[std::min(op_ms.size() - 1, std::size_t(q * double(op_ms.size())))];
  };
  const double per_s = double(inserted.load()) / (total_ms / 1000.0);
  std::printf("store: %llu inserts (%llu ops of %u) by %u threads x window %u, synchronous=%s\n",
              static_cast<unsigned long long>(inserted.load()),
              static_cast<unsigned long long>(ops), opt.per_op, opt.threads, opt.window,
              opt.sync_full ? "FULL" : "NORMAL");
  std::printf("  %.2f s = %.0f inserts/s; failed ops %llu, rolled back %llu\n", total_ms / 1000.0,
              per_s, static_cast<unsigned long long>(failed_ops.load()),
              static_cast<unsigned long long>(stats.ops_rolled_back));
  std::printf("  process CPU %.2f s (%.2f cores) = %.2f us/insert, record building included\n",
              cpu_used, cpu_used / (total_ms / 1000.0),
              cpu_used * 1e6 / double(std::max<std::uint64_t>(1, inserted.load())));
  std::printf("  groups committed %llu, %.1f ops (%.0f inserts) per group, largest %llu ops\n",
              static_cast<unsigned long long>(stats.groups_committed),
              double(stats.ops_committed) / double(std::max<uint64_t>(1, stats.groups_committed)),
              double(inserted.load()) / double(std::max<uint64_t>(1, stats.groups_committed)),
              static_cast<unsigned long long>(stats.largest_group));
  std::printf("  op submit->durable: p50=%.2f ms p99=%.2f ms max=%.2f ms\n", rank(0.5), rank(0.99),
              op_ms.back());

  // Keyset pages: the first, and one half-way through the job.
  auto reader = store.reader();
  auto time_page = [&](int64_t after) {
    store::ListQuery q;
    q.table = store::Table::Tasks;
    q.parent = "bigjob";
    q.after_seq = after;
    q.limit = 1001;
    const auto t0 = SteadyClock::now();
    auto rows = reader->list(q);
    return std::pair{ms_since(t0), rows.size()};
  };
  auto [first_ms, first_rows] = time_page(0);
  auto [deep_ms, deep_rows] = time_page(static_cast<int64_t>(opt.tasks / 2));
  const auto t0 = SteadyClock::now();
  const auto counted = reader->count(store::Table::Tasks, "bigjob", std::nullopt);
  const double count_ms = ms_since(t0);
  reader.reset();
  std::printf(
      "  page of 1001 rows: first %.2f ms (%zu rows), after seq %llu %.2f ms (%zu rows); count "
      "%lld in %.0f ms\n",
      first_ms, first_rows, static_cast<unsigned long long>(opt.tasks / 2), deep_ms, deep_rows,
      static_cast<long long>(counted), count_ms);
  store.close();
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  std::printf("  process VmHWM %s, VmRSS %s, database %.0f MB\n", proc_status("VmHWM:").c_str(),
              proc_status("VmRSS:").c_str(), ec ? 0.0 : double(bytes) / 1e6);
  std::printf(
      "SUMMARY inserts=%llu inserts_per_s=%.0f groups=%llu ops_per_group=%.1f failed_ops=%llu\n",
      static_cast<unsigned long long>(inserted.load()), per_s,
      static_cast<unsigned long long>(stats.groups_committed),
      double(stats.ops_committed) / double(std::max<uint64_t>(1, stats.groups_committed)),
      static_cast<unsigned long long>(failed_ops.load()));
  opened->reset();
  if (remove_dir) fs::remove_all(opt.dir, ec);
  return failed_ops.load() == 0 && inserted.load() == opt.tasks ? 0 : 1;
}
