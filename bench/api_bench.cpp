// openbatch-bench-api_bench: measures the task API of a running scheduler end to end -- K
// keep-alive clients adding tasks in collections of 100, then reading them back page by page,
// and (optionally) probing list pages and single-task GETs deep inside one large job.
#include "common/http/client.hpp"

#include "bench/command_line.hpp"
#include "bench/machine_cpu.hpp"
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using openbatch::http::BatchClient;
using openbatch::http::HttpResponse;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kCollectionSize = 100;
constexpr int kPageSize = 1000;

struct Options {
  std::string url;
  std::string account = "openbatch";
  std::string key;
  unsigned clients = 8;
  std::uint64_t tasks = 200000;
  std::string job_prefix;
  bool single_job = false;  // all clients add to one job (the 1M-task fill)
  bool readback = true;     // list every job back after the fill
  bool probe_only = false;  // skip creating and adding; probe an existing job
  unsigned deep_pages = 0;  // >0: probe job 0 following this many nextLinks
  int scheduler_pid = 0;    // >0: split the scheduler's CPU per phase and thread
};

double ms_since(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

double cpu_seconds_self() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Where the CPU went during a phase: the machine (/proc/stat), the scheduler's threads
// (/proc/PID/task/TID/stat) and this process.
struct CpuSnapshot {
  double machine_busy = 0;  // seconds summed over all cores
  double machine_idle = 0;
  double machine_iowait = 0;
  double self = 0;
  std::map<int, double> scheduler_threads;  // tid -> user+system seconds
};

// user+system seconds from a /proc stat line (fields 14 and 15, after "(comm) ").
double stat_cpu_seconds(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field && i <= 15; ++i) {
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks / double(sysconf(_SC_CLK_TCK));
}

CpuSnapshot cpu_snapshot(int scheduler_pid) {
  CpuSnapshot snap;
  snap.self = cpu_seconds_self();
  const auto machine = openbatch::bench::read_machine_cpu();
  snap.machine_busy = machine.busy;
  snap.machine_idle = machine.idle;
  snap.machine_iowait = machine.iowait;
  if (scheduler_pid > 0) {
    std::error_code ec;
    const std::string dir = "/proc/" + std::to_string(scheduler_pid) + "/task";
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const int tid = std::stoi(entry.path().filename().string());
      snap.scheduler_threads[tid] = stat_cpu_seconds(entry.path().string() + "/stat");
    }
  }
  return snap;
}

// Prints the CPU split of a phase. Scheduler threads in tid order: the main thread runs I/O,
// the next one started is the store writer, the rest are I/O threads.
void print_cpu_split(const char* phase, const CpuSnapshot& a, const CpuSnapshot& b, double wall_s,
                     std::uint64_t tasks, int scheduler_pid) {
  const double cores = double(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  double scheduler = 0;
  std::string threads;
  int n = 0;
  for (const auto& [tid, seconds] : b.scheduler_threads) {
    auto before = a.scheduler_threads.find(tid);
    const double used = seconds - (before == a.scheduler_threads.end() ? 0.0 : before->second);
    scheduler += used;
    const char* role = tid == scheduler_pid ? "io-main" : n == 1 ? "store-writer" : "io";
    char part[64];
    std::snprintf(part, sizeof part, " %s=%.2f", role, used);
    threads += part;
    ++n;
  }
  const double busy = b.machine_busy - a.machine_busy;
  const double self = b.self - a.self;
  std::printf(
      "cpu during %s: %.2f s wall x %.0f cores = %.2f core-s; scheduler %.2f (%.2f cores:%s)",
      phase, wall_s, cores, wall_s * cores, scheduler, scheduler / wall_s, threads.c_str());
  if (tasks) std::printf(" = %.1f us/task", scheduler * 1e6 / double(tasks));
  std::printf("; bench %.2f; others %.2f; idle %.2f (iowait %.2f)\n", self,
              std::max(0.0, busy - scheduler - self), b.machine_idle - a.machine_idle,
              b.machine_iowait - a.machine_iowait);
  std::printf(
      "CPU phase=%s wall_s=%.2f scheduler_core_s=%.2f scheduler_cores=%.2f bench_core_s=%.2f "
      "others_core_s=%.2f idle_core_s=%.2f\n",
      phase, wall_s, scheduler, scheduler / wall_s, self, std::max(0.0, busy - scheduler - self),
      b.machine_idle - a.machine_idle);
}

// Nearest-rank percentiles of a latency sample, in milliseconds.
struct Percentiles {
  std::size_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};

Percentiles percentiles(std::vector<double> sample) {
  Percentiles p;
  p.count = sample.size();
  if (sample.empty()) return p;
  std::sort(sample.begin(), sample.end());
  auto rank = [&](double q) {
    std::size_t i = static_cast<std::size_t>(q * double(sample.size()));
    return sample[std::min(i, sample.size() - 1)];
  };
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  p.max = sample.back();
  double sum = 0;
  for (double v : sample) sum += v;
  p.mean = sum / double(sample.size());
  return p;
}

void print_latency(const char* what, const Percentiles& p) {
  std::printf("  %-34s n=%zu  p50=%.2f ms  p90=%.2f ms  p99=%.2f ms  max=%.2f ms  mean=%.2f ms\n",
              what, p.count, p.p50, p.p90, p.p99, p.max, p.mean);
}

std::string job_id(const Options& opt, unsigned k) {
  return opt.job_prefix + "-" + std::to_string(k);
}
std::string task_id(std::uint64_t n) { return "task-" + std::to_string(n); }

// A realistic TaskAddParameter: every task has a shell command line; every 10th downloads a
// resource file and every 7th carries environment settings.
void append_task(std::string& out, std::uint64_t n) {
  const std::string index = std::to_string(n);
  out +=
      R"({"id":")" + task_id(n) + R"(","commandLine":"/bin/sh -c \"echo task )" + index + R"(\"")";
  if (n % 10 == 0) {
    out += R"(,"resourceFiles":[{"httpUrl":"https://example.blob.core.windows.net/inputs/input-)" +
           index + R"(.txt","filePath":"inputs/input-)" + index + R"(.txt"}])";
  }
  if (n % 7 == 0) {
    out += R"(,"environmentSettings":[{"name":"TASK_INDEX","value":")" + index +
           R"("},{"name":"BENCH","value":"api_bench"}])";
  }
  out += '}';
}

std::string collection_body(std::uint64_t first, std::uint64_t count) {
  std::string body = R"({"value":[)";
  for (std::uint64_t n = first; n < first + count; ++n) {
    if (n != first) body += ',';
    append_task(body, n);
  }
  body += "]}";
  return body;
}

// What one client saw; merged after the threads join.
struct ClientResult {
  std::vector<double> add_ms;   // per addtaskcollection request
  std::vector<double> page_ms;  // per list page
  std::uint64_t accepted = 0;   // results with status "success"
  std::uint64_t failed = 0;     // tasks not accepted (any reason)
  std::uint64_t read_back = 0;  // tasks listed back
  std::uint64_t read_errors = 0;
  std::size_t connections = 0;
  std::string first_error;

  void note_error(std::string text) {
    if (first_error.empty()) first_error = std::move(text);
  }
};

std::string describe(const openbatch::Result<HttpResponse>& res) {
  if (!res) return "transport: " + res.error().code + ": " + res.error().message;
  return "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300);
}

// Adds tasks [first, first+count) to `job` in collections of 100, verifying every result.
void add_tasks(BatchClient& client, const std::string& job, std::uint64_t first,
               std::uint64_t count, ClientResult& out) {
  const std::string target = "/jobs/" + job + "/addtaskcollection";
  out.add_ms.reserve(count / kCollectionSize + 1);
  for (std::uint64_t n = first; n < first + count; n += kCollectionSize) {
    const std::uint64_t size = std::min<std::uint64_t>(kCollectionSize, first + count - n);
    std::string body = collection_body(n, size);
    const auto start = SteadyClock::now();
    auto res = client.request("POST", target, std::move(body));
    out.add_ms.push_back(ms_since(start));
    if (!res || res->status != 200) {
      out.failed += size;
      out.note_error(describe(res));
      continue;
    }
    auto parsed = nlohmann::json::parse(res->body, nullptr, false);
    std::uint64_t ok = 0;
    if (!parsed.is_discarded() && parsed.contains("value") && parsed["value"].is_array()) {
      for (const auto& r : parsed["value"]) {
        if (r.value("status", "") == "success") {
          ++ok;
        } else {
          out.note_error("task result: " + r.dump().substr(0, 300));
        }
      }
    } else {
      out.note_error("unparsable addtaskcollection reply: " + res->body.substr(0, 300));
    }
    ok = std::min(ok, size);
    out.accepted += ok;
    out.failed += size - ok;
  }
}

// Lists `job` with maxresults=1000 following odata.nextLink; checks every expected id
// (task-first .. task-first+count-1) appears exactly once.
void read_back(BatchClient& client, const std::string& job, std::uint64_t first,
               std::uint64_t count, ClientResult& out) {
  std::vector<std::uint8_t> seen(count, 0);
  std::string target = "/jobs/" + job + "/tasks?maxresults=" + std::to_string(kPageSize);
  std::uint64_t duplicates = 0, strangers = 0;
  while (!target.empty()) {
    const auto start = SteadyClock::now();
    auto res = client.request("GET", target);
    out.page_ms.push_back(ms_since(start));
    if (!res || res->status != 200) {
      ++out.read_errors;
      out.note_error(describe(res));
      return;
    }
    auto page = nlohmann::json::parse(res->body, nullptr, false);
    if (page.is_discarded() || !page.contains("value")) {
      ++out.read_errors;
      out.note_error("unparsable task page: " + res->body.substr(0, 300));
      return;
    }
    for (const auto& task : page["value"]) {
      const std::string id = task.value("id", "");
      std::uint64_t n = 0;
      bool ok = id.starts_with("task-");
      if (ok) {
        try {
          n = std::stoull(id.substr(5));
        } catch (...) {
          ok = false;
        }
      }
      if (!ok || n < first || n >= first + count) {
        ++strangers;
        continue;
      }
      if (seen[n - first]++) ++duplicates;
      ++out.read_back;
    }
    auto link = page.find("odata.nextLink");
    target = link != page.end() && link->is_string() ? link->get<std::string>() : std::string();
  }
  const auto missing = std::count(seen.begin(), seen.end(), 0);
  if (missing || duplicates || strangers) {
    out.read_errors += missing + duplicates + strangers;
    out.note_error("read back " + job + ": " + std::to_string(missing) + " missing, " +
                   std::to_string(duplicates) + " duplicated, " + std::to_string(strangers) +
                   " unexpected ids");
  }
}

// Which tasks client k adds: an even split of [0, tasks).
std::pair<std::uint64_t, std::uint64_t> share(const Options& opt, unsigned k) {
  const std::uint64_t begin = opt.tasks * k / opt.clients;
  const std::uint64_t end = opt.tasks * (k + 1) / opt.clients;
  return {begin, end - begin};
}

int create_jobs(const Options& opt, unsigned jobs) {
  BatchClient client(opt.url, opt.account, opt.key);
  std::vector<double> ms;
  for (unsigned k = 0; k < jobs; ++k) {
    const std::string body = R"({"id":")" + job_id(opt, k) + R"(","poolInfo":{"poolId":"p"}})";
    const auto start = SteadyClock::now();
    auto res = client.request("POST", "/jobs", body);
    ms.push_back(ms_since(start));
    if (!res || res->status != 201) {
      std::fprintf(stderr, "api_bench: creating job %s failed: %s\n", job_id(opt, k).c_str(),
                   describe(res).c_str());
      return 1;
    }
  }
  print_latency("POST /jobs", percentiles(ms));
  return 0;
}

// Fill and read back. Returns the number of failures (0: every task accepted and listed).
std::uint64_t run_fill(const Options& opt) {
  const unsigned jobs = opt.single_job ? 1 : opt.clients;
  std::printf("fill: %u clients, %llu tasks, %u job(s) %s-*\n", opt.clients,
              static_cast<unsigned long long>(opt.tasks), jobs, opt.job_prefix.c_str());
  if (create_jobs(opt, jobs) != 0) return opt.tasks;

  std::vector<ClientResult> results(opt.clients);
  std::barrier start_line(static_cast<std::ptrdiff_t>(opt.clients) + 1);
  std::barrier add_done(static_cast<std::ptrdiff_t>(opt.clients) + 1);
  std::barrier read_start(static_cast<std::ptrdiff_t>(opt.clients) + 1);
  std::vector<std::thread> threads;
  for (unsigned k = 0; k < opt.clients; ++k) {
    threads.emplace_back([&, k] {
      BatchClient client(opt.url, opt.account, opt.key);
      const auto [first, count] = share(opt, k);
      const std::string job = job_id(opt, opt.single_job ? 0 : k);
      start_line.arrive_and_wait();
      add_tasks(client, job, first, count, results[k]);
      add_done.arrive_and_wait();
      read_start.arrive_and_wait();
      // With one shared job only client 0 reads it back (all of it).
      if (opt.readback && (!opt.single_job || k == 0)) {
        read_back(client, job, opt.single_job ? 0 : first, opt.single_job ? opt.tasks : count,
                  results[k]);
      }
      results[k].connections = client.http().connections_opened();
    });
  }
  const CpuSnapshot cpu0 = cpu_snapshot(opt.scheduler_pid);
  start_line.arrive_and_wait();
  const auto add_start = SteadyClock::now();
  add_done.arrive_and_wait();
  const double add_ms = ms_since(add_start);
  const CpuSnapshot cpu1 = cpu_snapshot(opt.scheduler_pid);
  const double add_cpu = cpu1.self - cpu0.self;
  const auto read_start_time = SteadyClock::now();
  read_start.arrive_and_wait();
  for (auto& t : threads) t.join();
  const double read_ms = ms_since(read_start_time);
  const CpuSnapshot cpu2 = cpu_snapshot(opt.scheduler_pid);

  ClientResult all;
  for (auto& r : results) {
    all.add_ms.insert(all.add_ms.end(), r.add_ms.begin(), r.add_ms.end());
    all.page_ms.insert(all.page_ms.end(), r.page_ms.begin(), r.page_ms.end());
    all.accepted += r.accepted;
    all.failed += r.failed;
    all.read_back += r.read_back;
    all.read_errors += r.read_errors;
    all.connections += r.connections;
    if (all.first_error.empty()) all.first_error = r.first_error;
  }
  const double tasks_per_s = double(all.accepted) / (add_ms / 1000.0);
  const auto add_p = percentiles(all.add_ms);
  std::printf(
      "add: %llu accepted, %llu failed in %.2f s = %.0f tasks/s (%.0f collections/s); "
      "bench client CPU %.2f s\n",
      static_cast<unsigned long long>(all.accepted), static_cast<unsigned long long>(all.failed),
      add_ms / 1000.0, tasks_per_s, double(add_p.count) / (add_ms / 1000.0), add_cpu);
  print_latency("POST addtaskcollection (100 tasks)", add_p);
  Percentiles page_p;
  if (opt.readback) {
    page_p = percentiles(all.page_ms);
    std::printf("read back: %llu tasks in %zu pages, %.2f s = %.0f tasks/s, %llu errors\n",
                static_cast<unsigned long long>(all.read_back), page_p.count, read_ms / 1000.0,
                double(all.read_back) / (read_ms / 1000.0),
                static_cast<unsigned long long>(all.read_errors));
    print_latency("GET tasks page (maxresults=1000)", page_p);
  }
  std::printf("connections opened: %zu for %u clients (keep-alive)\n", all.connections,
              opt.clients);
  if (opt.scheduler_pid > 0) {
    print_cpu_split("add", cpu0, cpu1, add_ms / 1000.0, opt.tasks, opt.scheduler_pid);
    if (opt.readback)
      print_cpu_split("readback", cpu1, cpu2, read_ms / 1000.0, all.read_back, opt.scheduler_pid);
  }
  if (!all.first_error.empty()) std::printf("first error: %s\n", all.first_error.c_str());
  std::printf(
      "SUMMARY tasks=%llu accepted=%llu failed=%llu tasks_per_s=%.0f add_p50_ms=%.2f "
      "add_p90_ms=%.2f add_p99_ms=%.2f add_max_ms=%.2f read_back=%llu read_errors=%llu "
      "page_p50_ms=%.2f page_p99_ms=%.2f\n",
      static_cast<unsigned long long>(opt.tasks), static_cast<unsigned long long>(all.accepted),
      static_cast<unsigned long long>(all.failed), tasks_per_s, add_p.p50, add_p.p90, add_p.p99,
      add_p.max, static_cast<unsigned long long>(all.read_back),
      static_cast<unsigned long long>(all.read_errors), page_p.p50, page_p.p99);
  return all.failed + all.read_errors;
}

// Times `repeat` GETs of `target`; nullopt-equivalent (empty sample) on any failure.
std::vector<double> time_gets(BatchClient& client, const std::string& target, int repeat,
                              std::string& error) {
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    const auto start = SteadyClock::now();
    auto res = client.request("GET", target);
    ms.push_back(ms_since(start));
    if (!res || res->status != 200) {
      error = describe(res);
      return {};
    }
  }
  return ms;
}

// Probes job 0: the first page, `deep_pages` nextLinks, the page found there, single-task GETs
// and a filtered page. Returns the number of failures.
int run_probe(const Options& opt) {
  BatchClient client(opt.url, opt.account, opt.key);
  const std::string job = job_id(opt, 0);
  const std::string first_page = "/jobs/" + job + "/tasks?maxresults=" + std::to_string(kPageSize);
  std::string error;
  std::printf("probe: job %s, following %u nextLinks\n", job.c_str(), opt.deep_pages);

  // The very first request of a (possibly just restarted) scheduler: cold.
  auto cold = time_gets(client, first_page, 1, error);
  if (cold.empty()) {
    std::fprintf(stderr, "api_bench: probe failed: %s\n", error.c_str());
    return 1;
  }
  auto first = time_gets(client, first_page, 20, error);

  std::vector<double> walk_ms;
  std::string target = first_page;
  std::string deep_link;
  std::uint64_t tasks_seen = 0;
  for (unsigned i = 0; i <= opt.deep_pages; ++i) {
    const auto start = SteadyClock::now();
    auto res = client.request("GET", target);
    walk_ms.push_back(ms_since(start));
    if (!res || res->status != 200) {
      std::fprintf(stderr, "api_bench: page %u failed: %s\n", i, describe(res).c_str());
      return 1;
    }
    auto page = nlohmann::json::parse(res->body, nullptr, false);
    if (page.is_discarded()) return 1;
    tasks_seen += page["value"].size();
    auto link = page.find("odata.nextLink");
    if (link == page.end()) {
      std::fprintf(stderr, "api_bench: the job ended after %u pages\n", i + 1);
      return 1;
    }
    deep_link = target;
    target = link->get<std::string>();
  }
  const double deep_first = walk_ms.back();
  auto deep = time_gets(client, deep_link, 20, error);

  // Single-task GETs spread over the whole job.
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::uint64_t> pick(0, opt.tasks - 1);
  std::vector<double> get_ms;
  for (int i = 0; i < 200; ++i) {
    const std::string one = "/jobs/" + job + "/tasks/" + task_id(pick(rng));
    auto sample = time_gets(client, one, 1, error);
    if (sample.empty()) {
      std::fprintf(stderr, "api_bench: GET task failed: %s\n", error.c_str());
      return 1;
    }
    get_ms.push_back(sample[0]);
  }
  auto filtered = time_gets(client, first_page + "&$filter=state%20eq%20%27active%27", 10, error);
  if (first.empty() || deep.empty() || filtered.empty()) {
    std::fprintf(stderr, "api_bench: probe failed: %s\n", error.c_str());
    return 1;
  }

  std::printf("  first page, first request (cold)     %.2f ms\n", cold[0]);
  print_latency("first page x20", percentiles(first));
  print_latency("walk: every page 1..N+1", percentiles(walk_ms));
  std::printf("  page %u (after %u nextLinks, %llu tasks in): first fetch %.2f ms\n",
              opt.deep_pages + 1, opt.deep_pages,
              static_cast<unsigned long long>(tasks_seen - kPageSize), deep_first);
  print_latency("same deep page x20", percentiles(deep));
  print_latency("GET /jobs/j/tasks/{random id}", percentiles(get_ms));
  print_latency("first page $filter=state eq active", percentiles(filtered));
  const auto f = percentiles(first), d = percentiles(deep), g = percentiles(get_ms);
  std::printf(
      "PROBE cold_first_ms=%.2f first_p50_ms=%.2f deep_first_ms=%.2f deep_p50_ms=%.2f "
      "walk_p50_ms=%.2f walk_p99_ms=%.2f get_p50_ms=%.2f get_p99_ms=%.2f filtered_p50_ms=%.2f\n",
      cold[0], f.p50, deep_first, d.p50, percentiles(walk_ms).p50, percentiles(walk_ms).p99, g.p50,
      g.p99, percentiles(filtered).p50);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  opt.job_prefix = "bench" + std::to_string(std::time(nullptr));
  CLI::App app{
      "openbatch-bench-api_bench: task add/list throughput and latency against a scheduler"};
  app.add_option("--url", opt.url, "scheduler base URL, http://HOST:PORT")->required();
  app.add_option("--account", opt.account, "account name")->capture_default_str();
  app.add_option("--key", opt.key,
                 "account key (base64); better in $OPENBATCH_ACCOUNT_KEY, out of argv")
      ->envname("OPENBATCH_ACCOUNT_KEY")
      ->required();
  app.add_option("--clients", opt.clients,
                 "concurrent clients (threads), each with its own connection")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  app.add_option("--tasks", opt.tasks, "tasks in all")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--job-prefix", opt.job_prefix,
                 "jobs are PREFIX-0 .. PREFIX-(K-1) (default bench<unix time>)");
  app.add_flag("--single-job", opt.single_job, "every client adds to the one job PREFIX-0");
  app.add_flag("!--no-readback", opt.readback, "skip listing the tasks back");
  app.add_option("--deep-pages", opt.deep_pages,
                 "after the fill, probe PREFIX-0 following N nextLinks");
  app.add_option("--scheduler-pid", opt.scheduler_pid,
                 "the scheduler's pid (same machine): print its CPU per phase and thread");
  app.add_flag("--probe-only", opt.probe_only,
               "skip the fill; probe an existing PREFIX-0 of --tasks tasks");
  CLI11_PARSE(app, argc, argv);
  if (opt.probe_only && opt.deep_pages == 0) opt.deep_pages = 500;

  std::printf("command: %s\n", openbatch::bench::printable_command_line(argc, argv).c_str());
  if (opt.key.empty()) {
    std::fprintf(stderr, "api_bench: --key is empty\n");
    return 2;
  }
  {
    BatchClient check(opt.url, opt.account, opt.key);
    if (auto v = check.valid(); !v) {
      std::fprintf(stderr, "api_bench: %s\n", v.error().message.c_str());
      return 2;
    }
  }
  std::uint64_t failures = 0;
  if (!opt.probe_only) failures += run_fill(opt);
  if (opt.deep_pages > 0) failures += static_cast<std::uint64_t>(run_probe(opt));
  std::fflush(stdout);
  return failures == 0 ? 0 : 1;
}
