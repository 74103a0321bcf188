// openbatch-bench-e2e_bench: tasks run end to end through a running scheduler and its local
// agents. Creates a pool of K nodes with S task slots each, waits for the nodes to be idle,
// then
//   1. throughput: N trivial tasks (`/bin/true`) added in collections of 100 by C client
//      threads; polls /jobs/{j}/taskcounts until all are completed: tasks/s, and the CPU of the
//      scheduler and of every agent (own, and own + reaped children = the task processes);
//   2. latency on the idle pool: L single tasks, one at a time, each waited for until
//      completed: executionInfo.startTime - creationTime (startTime is the agent's process
//      start), split into its steps, and the client-observed add -> completed.
// CPU comes from /proc/<pid>/stat (utime+stime, cutime+cstime) of the scheduler and of the
// agents (pids from <data-dir>/agents/<pool>/<node>/agent.pid) and /proc/stat for the machine.
#include "common/http/client.hpp"

#include "bench/command_line.hpp"
#include "bench/machine_cpu.hpp"
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
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

using nlohmann::json;
using openbatch::http::BatchClient;
using openbatch::http::HttpResponse;
using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr std::uint64_t kCollectionSize = 100;

struct Options {
  std::string url;
  std::string account = "openbatch";
  std::string key;
  std::string data_dir;  // the scheduler's --data-dir (to find the agents' pids)
  int scheduler_pid = 0;
  unsigned nodes = 2;
  unsigned slots = 4;
  std::uint64_t tasks = 10000;
  unsigned clients = 4;
  unsigned latency_tasks = 100;
  unsigned latency_gap_ms = 0;  // random pause of U(0, gap) before each latency task
  unsigned poll_ms = 100;       // taskcounts poll interval in the throughput phase
  double latency_poll_ms = 1;   // GET task poll interval in the latency phase
  double idle_seconds = 2;      // CPU of the idle pool (heartbeats) over this long; 0: skip
  unsigned timeout_s = 300;
  std::string prefix;
  std::string command_line = "/bin/true";
  std::string vm_size = "STANDARD_D2S_V3";  // taskSlotsPerNode may be at most 4 x its vCPUs
};

double ms_since(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

double seconds_between(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string describe(const openbatch::Result<HttpResponse>& res) {
  if (!res) return "transport: " + res.error().code + ": " + res.error().message;
  return "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300);
}

// ---------------------------------------------------------------- CPU accounting

struct ProcCpu {
  double own = 0;       // utime + stime
  double children = 0;  // cutime + cstime (waited-for children)
  bool ok = false;
};

ProcCpu proc_cpu(const std::string& stat_path) {
  ProcCpu out;
  std::ifstream in(stat_path);
  std::string line;
  if (!std::getline(in, line)) return out;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  double v[18] = {};
  for (int i = 3; i <= 17 && fields >> field; ++i) {
    if (i >= 14) v[i] = std::stod(field);
  }
  const double hz = double(sysconf(_SC_CLK_TCK));
  out.own = (v[14] + v[15]) / hz;
  out.children = (v[16] + v[17]) / hz;
  out.ok = true;
  return out;
}

struct Snapshot {
  SteadyClock::time_point at;
  double machine_busy = 0, machine_idle = 0, machine_iowait = 0;
  double self = 0;
  ProcCpu scheduler;
  std::map<int, double> scheduler_threads;  // tid -> own seconds
  std::map<int, ProcCpu> agents;            // pid -> cpu
};

double self_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec) + double(u.ru_utime.tv_usec) / 1e6 + double(u.ru_stime.tv_sec) +
         double(u.ru_stime.tv_usec) / 1e6;
}

Snapshot snapshot(int scheduler_pid, const std::vector<int>& agent_pids) {
  Snapshot s;
  s.at = SteadyClock::now();
  s.self = self_cpu();
  const auto machine = openbatch::bench::read_machine_cpu();
  s.machine_busy = machine.busy;
  s.machine_idle = machine.idle;
  s.machine_iowait = machine.iowait;
  if (scheduler_pid > 0) {
    const std::string dir = "/proc/" + std::to_string(scheduler_pid);
    s.scheduler = proc_cpu(dir + "/stat");
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir + "/task", ec)) {
      s.scheduler_threads[std::stoi(e.path().filename().string())] =
          proc_cpu(e.path().string() + "/stat").own;
    }
  }
  for (int pid : agent_pids) s.agents[pid] = proc_cpu("/proc/" + std::to_string(pid) + "/stat");
  return s;
}

std::string thread_name(int pid, int tid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

struct CpuDelta {
  double wall = 0;
  double machine_busy = 0, machine_idle = 0, machine_iowait = 0;
  double self = 0;
  double scheduler_own = 0, scheduler_children = 0;
  double agents_own = 0, agents_children = 0;
  std::vector<double> per_agent_own, per_agent_children;
  std::string scheduler_threads;  // "tid:name=s ..."
  double others() const {
    return std::max(0.0, machine_busy - scheduler_own - scheduler_children - agents_own -
                             agents_children - self);
  }
};

CpuDelta delta(const Snapshot& a, const Snapshot& b, int scheduler_pid) {
  CpuDelta d;
  d.wall = seconds_between(a.at, b.at);
  d.machine_busy = b.machine_busy - a.machine_busy;
  d.machine_idle = b.machine_idle - a.machine_idle;
  d.machine_iowait = b.machine_iowait - a.machine_iowait;
  d.self = b.self - a.self;
  d.scheduler_own = b.scheduler.own - a.scheduler.own;
  d.scheduler_children = b.scheduler.children - a.scheduler.children;
  for (const auto& [pid, cpu] : b.agents) {
    auto before = a.agents.find(pid);
    if (before == a.agents.end() || !cpu.ok || !before->second.ok) continue;
    d.per_agent_own.push_back(cpu.own - before->second.own);
    d.per_agent_children.push_back(cpu.children - before->second.children);
    d.agents_own += d.per_agent_own.back();
    d.agents_children += d.per_agent_children.back();
  }
  for (const auto& [tid, sec] : b.scheduler_threads) {
    auto before = a.scheduler_threads.find(tid);
    const double used = sec - (before == a.scheduler_threads.end() ? 0.0 : before->second);
    char part[96];
    std::snprintf(part, sizeof part, " %s(%d)=%.2f", thread_name(scheduler_pid, tid).c_str(), tid,
                  used);
    d.scheduler_threads += part;
  }
  return d;
}

// Prints the CPU of a phase; `per` > 0 adds "per 1,000 tasks" figures.
void print_cpu(const char* phase, const CpuDelta& d, std::uint64_t tasks) {
  const double k = tasks ? 1000.0 / double(tasks) : 0.0;
  std::printf(
      "cpu %s: %.2f s wall x %ld cores = %.2f core-s; machine busy %.2f (iowait %.2f, idle %.2f)\n",
      phase, d.wall, sysconf(_SC_NPROCESSORS_ONLN), d.wall * double(sysconf(_SC_NPROCESSORS_ONLN)),
      d.machine_busy, d.machine_iowait, d.machine_idle);
  std::printf("  scheduler own %.3f s (threads:%s); reaped children %.3f s\n", d.scheduler_own,
              d.scheduler_threads.c_str(), d.scheduler_children);
  std::string agents;
  for (std::size_t i = 0; i < d.per_agent_own.size(); ++i) {
    char part[64];
    std::snprintf(part, sizeof part, " %.2f+%.2f", d.per_agent_own[i], d.per_agent_children[i]);
    agents += part;
  }
  std::printf(
      "  agents (%zu) own %.3f s + reaped children (the task processes) %.3f s; per agent "
      "own+children:%s\n",
      d.per_agent_own.size(), d.agents_own, d.agents_children, agents.c_str());
  std::printf("  bench client %.3f s; others (machine busy - all the above) %.3f s\n", d.self,
              d.others());
  if (tasks) {
    std::printf(
        "  per 1,000 tasks: scheduler+agents own %.3f s | + task processes %.3f s | scheduler "
        "%.3f, agents %.3f, "
        "tasks %.3f, bench %.3f, others %.3f, machine busy %.3f core-s\n",
        k * (d.scheduler_own + d.agents_own),
        k * (d.scheduler_own + d.agents_own + d.scheduler_children + d.agents_children),
        k * d.scheduler_own, k * d.agents_own, k * (d.agents_children + d.scheduler_children),
        k * d.self, k * d.others(), k * d.machine_busy);
  }
  std::printf(
      "CPU phase=%s wall_s=%.3f tasks=%llu sched_own_s=%.3f sched_children_s=%.3f "
      "agents_own_s=%.3f "
      "agents_children_s=%.3f bench_s=%.3f others_s=%.3f machine_busy_s=%.3f machine_idle_s=%.3f",
      phase, d.wall, static_cast<unsigned long long>(tasks), d.scheduler_own, d.scheduler_children,
      d.agents_own, d.agents_children, d.self, d.others(), d.machine_busy, d.machine_idle);
  if (tasks) {
    std::printf(" own_per_1000_s=%.3f with_children_per_1000_s=%.3f machine_per_1000_s=%.3f",
                k * (d.scheduler_own + d.agents_own),
                k * (d.scheduler_own + d.agents_own + d.scheduler_children + d.agents_children),
                k * d.machine_busy);
  }
  std::printf("\n");
}

// ---------------------------------------------------------------- helpers

struct Percentiles {
  std::size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, min = 0, mean = 0;
};

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) {  // nearest rank
    std::size_t i = static_cast<std::size_t>(std::ceil(q * double(v.size())));
    return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
  };
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  p.min = v.front();
  p.max = v.back();
  double sum = 0;
  for (double x : v) sum += x;
  p.mean = sum / double(v.size());
  return p;
}

void print_latency(const char* what, const Percentiles& p) {
  std::printf("  %-36s n=%zu  min=%.2f  p50=%.2f  p90=%.2f  p99=%.2f  max=%.2f  mean=%.2f ms\n",
              what, p.n, p.min, p.p50, p.p90, p.p99, p.max, p.mean);
}

// "2026-11-21T03:47:00.1234567Z" -> seconds since the epoch (fraction kept); <0 when unparsable.
double parse_time(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6)
    return -1;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  double t = double(timegm(&tm));
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < text.size() && text[i] == '.') {
    double scale = 0.1;
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
         ++i, scale /= 10) {
      t += scale * (text[i] - '0');
    }
  }
  return t;
}

std::string json_string(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<int> agent_pids(const Options& opt, const std::string& pool) {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(opt.data_dir) / "agents" / pool, ec)) {
    std::ifstream in(e.path() / "agent.pid");
    int pid = 0;
    if (in >> pid && pid > 0 && fs::exists("/proc/" + std::to_string(pid))) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

// ---------------------------------------------------------------- setup

bool create_pool(BatchClient& client, const Options& opt, const std::string& pool) {
  json body = {{"id", pool},
               {"vmSize", opt.vm_size},
               {"virtualMachineConfiguration",
                {{"imageReference",
                  {{"publisher", "canonical"},
                   {"offer", "0001-com-ubuntu-server-jammy"},
                   {"sku", "22_04-lts"},
                   {"version", "latest"}}},
                 {"nodeAgentSKUId", "batch.node.ubuntu 22.04"}}},
               {"targetDedicatedNodes", opt.nodes},
               {"taskSlotsPerNode", opt.slots}};
  auto res = client.request("POST", "/pools", body.dump());
  if (!res || res->status != 201) {
    std::fprintf(stderr, "e2e_bench: creating pool %s failed: %s\n", pool.c_str(),
                 describe(res).c_str());
    return false;
  }
  return true;
}

// Waits until the pool has `nodes` idle nodes. Returns seconds, or <0 on timeout/failure.
double wait_idle_nodes(BatchClient& client, const Options& opt, const std::string& pool) {
  const auto start = SteadyClock::now();
  std::string last;
  while (seconds_between(start, SteadyClock::now()) < 120) {
    auto res = client.request("GET", "/pools/" + pool + "/nodes");
    if (res && res->status == 200) {
      auto page = json::parse(res->body, nullptr, false);
      unsigned idle = 0;
      std::map<std::string, int> states;
      if (!page.is_discarded() && page.contains("value")) {
        for (const auto& n : page["value"]) {
          const std::string st = json_string(n, "state");
          states[st]++;
          if (st == "idle") ++idle;
        }
      }
      last.clear();
      for (const auto& [st, c] : states) last += st + "=" + std::to_string(c) + " ";
      if (idle >= opt.nodes) return seconds_between(start, SteadyClock::now());
    } else {
      last = describe(res);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "e2e_bench: pool %s has not %u idle nodes after 120 s (%s)\n", pool.c_str(),
               opt.nodes, last.c_str());
  return -1;
}

bool create_job(BatchClient& client, const std::string& job, const std::string& pool) {
  json body = {{"id", job}, {"poolInfo", {{"poolId", pool}}}};
  auto res = client.request("POST", "/jobs", body.dump());
  if (!res || res->status != 201) {
    std::fprintf(stderr, "e2e_bench: creating job %s failed: %s\n", job.c_str(),
                 describe(res).c_str());
    return false;
  }
  return true;
}

struct Counts {
  std::int64_t active = 0, running = 0, completed = 0, succeeded = 0, failed = 0;
  bool ok = false;
};

Counts task_counts(BatchClient& client, const std::string& job) {
  Counts c;
  auto res = client.request("GET", "/jobs/" + job + "/taskcounts");
  if (!res || res->status != 200) return c;
  auto body = json::parse(res->body, nullptr, false);
  if (body.is_discarded() || !body.contains("taskCounts")) return c;
  const json& t = body["taskCounts"];
  c.active = t.value("active", 0);
  c.running = t.value("running", 0);
  c.completed = t.value("completed", 0);
  c.succeeded = t.value("succeeded", 0);
  c.failed = t.value("failed", 0);
  c.ok = true;
  return c;
}

// ---------------------------------------------------------------- throughput

struct AddResult {
  std::uint64_t accepted = 0, failed = 0;
  std::vector<double> add_ms;
  std::string first_error;
};

void add_share(const Options& opt, const std::string& job, std::uint64_t first, std::uint64_t count,
               AddResult& out) {
  BatchClient client(opt.url, opt.account, opt.key);
  const std::string target = "/jobs/" + job + "/addtaskcollection";
  // the command line as a JSON string
  const std::string command = json(opt.command_line).dump();
  for (std::uint64_t n = first; n < first + count; n += kCollectionSize) {
    const std::uint64_t size = std::min(kCollectionSize, first + count - n);
    std::string body = R"({"value":[)";
    for (std::uint64_t i = n; i < n + size; ++i) {
      if (i != n) body += ',';
      body += R"({"id":"t-)" + std::to_string(i) + R"(","commandLine":)" + command + "}";
    }
    body += "]}";
    const auto start = SteadyClock::now();
    auto res = client.request("POST", target, std::move(body));
    out.add_ms.push_back(ms_since(start));
    if (!res || res->status != 200) {
      out.failed += size;
      if (out.first_error.empty()) out.first_error = describe(res);
      continue;
    }
    auto reply = json::parse(res->body, nullptr, false);
    std::uint64_t ok = 0;
    if (!reply.is_discarded() && reply.contains("value")) {
      for (const auto& r : reply["value"]) {
        if (json_string(r, "status") == "success") {
          ++ok;
        } else if (out.first_error.empty()) {
          out.first_error = "task result: " + r.dump().substr(0, 300);
        }
      }
    }
    ok = std::min(ok, size);
    out.accepted += ok;
    out.failed += size - ok;
  }
}

struct ThroughputFigures {
  double tasks_per_s = 0, e2e_s = 0, submit_s = 0, steady_tasks_per_s = 0;
  std::int64_t succeeded = 0, failed = 0;
  double poll_cpu_estimate = 0;  // scheduler CPU the taskcounts polls took (estimate)
  CpuDelta cpu;
  bool ok = false;
};

ThroughputFigures run_throughput(const Options& opt, const std::string& pool,
                                 const std::vector<int>& agents) {
  ThroughputFigures fig;
  BatchClient client(opt.url, opt.account, opt.key);
  const std::string job = opt.prefix + "-tp";
  if (!create_job(client, job, pool)) return fig;
  std::printf("throughput: %llu tasks (%s), %u clients, collections of %llu, job %s\n",
              static_cast<unsigned long long>(opt.tasks), opt.command_line.c_str(), opt.clients,
              static_cast<unsigned long long>(kCollectionSize), job.c_str());
  std::vector<AddResult> results(opt.clients);
  std::atomic<unsigned> adders_left{opt.clients};
  SteadyClock::time_point submit_done{};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (unsigned k = 0; k < opt.clients; ++k) {
    // shares in whole collections so that every request carries 100 tasks
    const std::uint64_t collections = (opt.tasks + kCollectionSize - 1) / kCollectionSize;
    const std::uint64_t c0 = collections * k / opt.clients,
                        c1 = collections * (k + 1) / opt.clients;
    const std::uint64_t first = std::min(opt.tasks, c0 * kCollectionSize);
    const std::uint64_t last = std::min(opt.tasks, c1 * kCollectionSize);
    threads.emplace_back([&, k, first, last] {
      while (!go.load()) std::this_thread::yield();
      add_share(opt, job, first, last - first, results[k]);
      if (--adders_left == 0) submit_done = SteadyClock::now();
    });
  }
  const Snapshot cpu0 = snapshot(opt.scheduler_pid, agents);
  const auto start = SteadyClock::now();
  go = true;
  // completion curve: (seconds, completed)
  std::vector<std::pair<double, std::int64_t>> curve;
  Counts c;
  bool timed_out = false;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(opt.poll_ms));
    c = task_counts(client, job);
    const double t = seconds_between(start, SteadyClock::now());
    if (c.ok) curve.emplace_back(t, c.completed);
    if (c.ok && c.completed >= static_cast<std::int64_t>(opt.tasks)) break;
    if (adders_left.load() == 0) {
      std::uint64_t accepted = 0;
      for (const auto& r : results) accepted += r.accepted;  // safe: adders are done
      if (c.ok && c.completed >= static_cast<std::int64_t>(accepted) && accepted < opt.tasks) break;
    }
    if (t > opt.timeout_s) {
      timed_out = true;
      break;
    }
  }
  const auto end = SteadyClock::now();
  const Snapshot cpu1 = snapshot(opt.scheduler_pid, agents);
  for (auto& t : threads) t.join();
  std::uint64_t accepted = 0, failed = 0;
  std::vector<double> add_ms;
  std::string first_error;
  for (const auto& r : results) {
    accepted += r.accepted;
    failed += r.failed;
    add_ms.insert(add_ms.end(), r.add_ms.begin(), r.add_ms.end());
    if (first_error.empty()) first_error = r.first_error;
  }
  fig.e2e_s = seconds_between(start, end);
  fig.submit_s = seconds_between(start, submit_done);
  fig.tasks_per_s = double(c.completed) / fig.e2e_s;
  fig.succeeded = c.succeeded;
  fig.failed = c.failed;
  fig.cpu = delta(cpu0, cpu1, opt.scheduler_pid);
  // Steady rate: between 10% and 90% of the tasks completed (ramp-up and tail excluded).
  auto at = [&](double frac) {
    const auto goal = static_cast<std::int64_t>(frac * double(opt.tasks));
    for (const auto& [t, n] : curve) {
      if (n >= goal) return std::make_pair(t, n);
    }
    return curve.empty() ? std::make_pair(0.0, std::int64_t(0)) : curve.back();
  };
  const auto [t10, n10] = at(0.1);
  const auto [t90, n90] = at(0.9);
  if (t90 > t10) fig.steady_tasks_per_s = double(n90 - n10) / (t90 - t10);
  const double first_done = [&] {
    for (const auto& [t, n] : curve) {
      if (n > 0) return t;
    }
    return -1.0;
  }();

  std::printf(
      "  added: %llu accepted, %llu failed in %.3f s (%.0f tasks/s submitted while running)\n",
      static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(failed),
      fig.submit_s, double(accepted) / fig.submit_s);
  print_latency("POST addtaskcollection (100 tasks)", percentiles(add_ms));
  std::printf(
      "  completed: %lld (succeeded %lld, failed %lld), still active %lld, running %lld%s\n",
      static_cast<long long>(c.completed), static_cast<long long>(c.succeeded),
      static_cast<long long>(c.failed), static_cast<long long>(c.active),
      static_cast<long long>(c.running), timed_out ? "  ** TIMED OUT **" : "");
  std::printf(
      "  submit -> all completed: %.3f s = %.0f tasks/s; first completion seen at %.3f s; steady "
      "rate "
      "(10%%..90%% completed) %.0f tasks/s; %zu taskcounts polls\n",
      fig.e2e_s, fig.tasks_per_s, first_done, fig.steady_tasks_per_s, curve.size());
  // a coarse completion curve: completed count at each tenth of the run
  std::string points;
  for (int i = 1; i <= 10; ++i) {
    const double t = fig.e2e_s * i / 10;
    std::int64_t n = 0;
    for (const auto& [ct, cn] : curve) {
      if (ct <= t) n = cn;
    }
    points += " " + std::to_string(n);
  }
  std::printf("  completed at each tenth of the run:%s\n", points.c_str());
  if (!first_error.empty()) std::printf("  first error: %s\n", first_error.c_str());
  print_cpu("throughput", fig.cpu,
            static_cast<std::uint64_t>(std::max<std::int64_t>(1, c.completed)));
  // What the polling cost: taskcounts reads every completed task's body (to count failures),
  // so a poll costs more as the job fills. Price 20 polls of the full job.
  if (opt.scheduler_pid > 0 && !curve.empty()) {
    const Snapshot p0 = snapshot(opt.scheduler_pid, {});
    const auto t0 = SteadyClock::now();
    for (int i = 0; i < 20; ++i) (void)task_counts(client, job);
    const double call_ms = ms_since(t0) / 20;
    const CpuDelta pd = delta(p0, snapshot(opt.scheduler_pid, {}), opt.scheduler_pid);
    const double per_poll = pd.scheduler_own / 20;
    // the polls' cost grows with completed tasks: about half the full-job cost on average
    fig.poll_cpu_estimate = per_poll * double(curve.size()) / 2;
    std::printf(
        "  taskcounts on the full job (%lld completed): %.2f ms a call, %.2f ms of scheduler CPU a "
        "call; "
        "the %zu polls of this phase cost about %.3f s of scheduler CPU (half the full-job price "
        "each)\n",
        static_cast<long long>(c.completed), call_ms, per_poll * 1000, curve.size(),
        fig.poll_cpu_estimate);
  }
  fig.ok = !timed_out && failed == 0 && c.completed == static_cast<std::int64_t>(opt.tasks) &&
           c.failed == 0;
  return fig;
}

// ---------------------------------------------------------------- latency

struct LatencyFigures {
  Percentiles start, done, create_dispatch, dispatch_start, run, end_completed, add_call;
  CpuDelta cpu;
  unsigned failures = 0;
};

LatencyFigures run_latency(const Options& opt, const std::string& pool,
                           const std::vector<int>& agents) {
  LatencyFigures fig;
  BatchClient client(opt.url, opt.account, opt.key);
  const std::string job = opt.prefix + "-lat";
  if (!create_job(client, job, pool)) {
    fig.failures = opt.latency_tasks;
    return fig;
  }
  std::printf(
      "latency: %u single tasks one at a time on the idle pool, job %s (poll every %.1f ms)\n",
      opt.latency_tasks, job.c_str(), opt.latency_poll_ms);
  std::mt19937 rng(7);
  std::vector<double> start_ms, done_ms, c2d, d2s, run_ms, e2c, add_ms;
  const auto poll = std::chrono::microseconds(static_cast<long>(opt.latency_poll_ms * 1000));
  const Snapshot cpu0 = snapshot(opt.scheduler_pid, agents);
  const std::string command = json(opt.command_line).dump();
  for (unsigned i = 0; i < opt.latency_tasks; ++i) {
    if (opt.latency_gap_ms) {
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % (opt.latency_gap_ms * 1000)));
    }
    const std::string id = "l-" + std::to_string(i);
    const auto t0 = SteadyClock::now();
    auto res = client.request("POST", "/jobs/" + job + "/tasks",
                              R"({"id":")" + id + R"(","commandLine":)" + command + "}");
    add_ms.push_back(ms_since(t0));
    if (!res || res->status != 201) {
      std::fprintf(stderr, "e2e_bench: adding %s failed: %s\n", id.c_str(), describe(res).c_str());
      ++fig.failures;
      continue;
    }
    json task;
    bool done = false;
    while (ms_since(t0) < 30000) {
      auto got = client.request("GET", "/jobs/" + job + "/tasks/" + id);
      if (got && got->status == 200) {
        task = json::parse(got->body, nullptr, false);
        if (!task.is_discarded() && json_string(task, "state") == "completed") {
          done = true;
          break;
        }
      }
      std::this_thread::sleep_for(poll);
    }
    const double observed = ms_since(t0);
    if (!done) {
      std::fprintf(stderr, "e2e_bench: task %s not completed after 30 s\n", id.c_str());
      ++fig.failures;
      continue;
    }
    const json info = task.value("executionInfo", json::object());
    const double created = parse_time(json_string(task, "creationTime"));
    const double dispatched = parse_time(json_string(task, "previousStateTransitionTime"));
    const double started = parse_time(json_string(info, "startTime"));
    const double ended = parse_time(json_string(info, "endTime"));
    const double completed = parse_time(json_string(task, "stateTransitionTime"));
    if (created < 0 || started < 0 || json_string(info, "result") != "success") {
      std::fprintf(stderr, "e2e_bench: task %s: unexpected body %s\n", id.c_str(),
                   task.dump().substr(0, 400).c_str());
      ++fig.failures;
      continue;
    }
    start_ms.push_back((started - created) * 1000);
    done_ms.push_back(observed);
    if (dispatched >= 0) {
      c2d.push_back((dispatched - created) * 1000);
      d2s.push_back((started - dispatched) * 1000);
    }
    if (ended >= 0) run_ms.push_back((ended - started) * 1000);
    if (ended >= 0 && completed >= 0) e2c.push_back((completed - ended) * 1000);
  }
  const Snapshot cpu1 = snapshot(opt.scheduler_pid, agents);
  fig.start = percentiles(start_ms);
  fig.done = percentiles(done_ms);
  fig.create_dispatch = percentiles(c2d);
  fig.dispatch_start = percentiles(d2s);
  fig.run = percentiles(run_ms);
  fig.end_completed = percentiles(e2c);
  fig.add_call = percentiles(add_ms);
  fig.cpu = delta(cpu0, cpu1, opt.scheduler_pid);
  print_latency("submit->start (startTime-creationTime)", fig.start);
  print_latency("  creation -> dispatch (scheduler)", fig.create_dispatch);
  print_latency("  dispatch -> process start (agent)", fig.dispatch_start);
  print_latency("  process start -> end (/bin/true)", fig.run);
  print_latency("  end -> completed (report applied)", fig.end_completed);
  print_latency("POST /jobs/j/tasks call", fig.add_call);
  print_latency("client add -> completed observed", fig.done);
  if (fig.failures) std::printf("  failures: %u\n", fig.failures);
  print_cpu("latency", fig.cpu, start_ms.size());
  return fig;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  opt.prefix = "e2e" + std::to_string(std::time(nullptr));
  CLI::App app{
      "openbatch-bench-e2e_bench: trivial tasks end to end through the scheduler and its local "
      "agents"};
  app.add_option("--url", opt.url, "scheduler base URL, http://HOST:PORT")->required();
  app.add_option("--account", opt.account, "account name")->capture_default_str();
  app.add_option("--key", opt.key,
                 "account key (base64); better in $OPENBATCH_ACCOUNT_KEY, out of argv")
      ->envname("OPENBATCH_ACCOUNT_KEY")
      ->required();
  app.add_option("--data-dir", opt.data_dir,
                 "the scheduler's --data-dir (agents' pids: agents/<pool>/<node>/agent.pid)");
  app.add_option("--scheduler-pid", opt.scheduler_pid,
                 "the scheduler's pid (same machine), for its CPU");
  app.add_option("--nodes", opt.nodes, "K: targetDedicatedNodes")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  app.add_option("--slots", opt.slots, "S: taskSlotsPerNode")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  app.add_option("--tasks", opt.tasks, "N: tasks in the throughput phase (0: skip it)")
      ->capture_default_str();
  app.add_option("--clients", opt.clients, "client threads adding tasks")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  app.add_option("--latency-tasks", opt.latency_tasks,
                 "L: single tasks in the latency phase (0: skip it)")
      ->capture_default_str();
  app.add_option("--latency-gap-ms", opt.latency_gap_ms,
                 "random pause U(0,G) ms before each latency task")
      ->capture_default_str();
  app.add_option("--latency-poll-ms", opt.latency_poll_ms, "GET task poll interval, latency phase")
      ->capture_default_str();
  app.add_option("--poll-ms", opt.poll_ms, "taskcounts poll interval, throughput phase")
      ->capture_default_str()
      ->check(CLI::Range(1u, 10000u));
  app.add_option("--idle-seconds", opt.idle_seconds,
                 "measure the idle pool's CPU this long (0: skip)")
      ->capture_default_str();
  app.add_option("--timeout", opt.timeout_s, "seconds to wait for the throughput phase")
      ->capture_default_str();
  app.add_option("--prefix", opt.prefix, "pool and job id prefix (default e2e<unix time>)");
  app.add_option("--vm-size", opt.vm_size, "the pool's vmSize (taskSlotsPerNode <= 4 x its vCPUs)")
      ->capture_default_str();
  app.add_option("--command-line", opt.command_line, "the tasks' commandLine")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::printf("command: %s\n", openbatch::bench::printable_command_line(argc, argv).c_str());
  BatchClient client(opt.url, opt.account, opt.key);
  if (auto v = client.valid(); !v) {
    std::fprintf(stderr, "e2e_bench: %s\n", v.error().message.c_str());
    return 2;
  }
  const std::string pool = opt.prefix + "-pool";
  const auto pool_start = SteadyClock::now();
  if (!create_pool(client, opt, pool)) return 1;
  const double ready_s = wait_idle_nodes(client, opt, pool);
  if (ready_s < 0) return 1;
  std::vector<int> agents = opt.data_dir.empty() ? std::vector<int>{} : agent_pids(opt, pool);
  std::printf(
      "pool %s (%s): %u nodes x %u slots idle %.3f s after the add (%.3f s incl. the add); agent "
      "pids:",
      pool.c_str(), opt.vm_size.c_str(), opt.nodes, opt.slots, ready_s,
      seconds_between(pool_start, SteadyClock::now()));
  for (int pid : agents) std::printf(" %d", pid);
  std::printf("\n");
  if (!opt.data_dir.empty() && agents.size() != opt.nodes) {
    std::fprintf(stderr, "e2e_bench: found %zu agent pids under %s/agents/%s, expected %u\n",
                 agents.size(), opt.data_dir.c_str(), pool.c_str(), opt.nodes);
  }
  std::fflush(stdout);

  int failures = 0;
  if (opt.idle_seconds > 0) {
    const Snapshot a = snapshot(opt.scheduler_pid, agents);
    std::this_thread::sleep_for(std::chrono::duration<double>(opt.idle_seconds));
    print_cpu("idle", delta(a, snapshot(opt.scheduler_pid, agents), opt.scheduler_pid), 0);
  }
  ThroughputFigures tp;
  if (opt.tasks > 0) {
    tp = run_throughput(opt, pool, agents);
    if (!tp.ok) ++failures;
    std::fflush(stdout);
  }
  LatencyFigures lat;
  if (opt.latency_tasks > 0) {
    lat = run_latency(opt, pool, agents);
    failures += static_cast<int>(lat.failures);
  }
  const double k = opt.tasks ? 1000.0 / double(opt.tasks) : 0;
  std::printf(
      "SUMMARY nodes=%u slots=%u tasks=%llu clients=%u tasks_per_s=%.1f steady_tasks_per_s=%.1f "
      "e2e_s=%.3f "
      "submit_s=%.3f succeeded=%lld failed=%lld own_cpu_per_1000=%.3f sched_cpu_per_1000=%.3f "
      "agents_cpu_per_1000=%.3f with_children_per_1000=%.3f machine_cpu_per_1000=%.3f "
      "others_per_1000=%.3f "
      "bench_cpu_per_1000=%.3f poll_cpu_per_1000=%.3f lat_n=%zu start_p50_ms=%.2f "
      "start_p99_ms=%.2f start_max_ms=%.2f "
      "done_p50_ms=%.2f done_p99_ms=%.2f dispatch_p50_ms=%.2f dispatch_p99_ms=%.2f "
      "launch_p50_ms=%.2f "
      "launch_p99_ms=%.2f failures=%d\n",
      opt.nodes, opt.slots, static_cast<unsigned long long>(opt.tasks), opt.clients, tp.tasks_per_s,
      tp.steady_tasks_per_s, tp.e2e_s, tp.submit_s, static_cast<long long>(tp.succeeded),
      static_cast<long long>(tp.failed), k * (tp.cpu.scheduler_own + tp.cpu.agents_own),
      k * tp.cpu.scheduler_own, k * tp.cpu.agents_own,
      k * (tp.cpu.scheduler_own + tp.cpu.agents_own + tp.cpu.scheduler_children +
           tp.cpu.agents_children),
      k * tp.cpu.machine_busy, k * tp.cpu.others(), k * tp.cpu.self, k * tp.poll_cpu_estimate,
      lat.start.n, lat.start.p50, lat.start.p99, lat.start.max, lat.done.p50, lat.done.p99,
      lat.create_dispatch.p50, lat.create_dispatch.p99, lat.dispatch_start.p50,
      lat.dispatch_start.p99, failures);
  std::fflush(stdout);
  return failures == 0 ? 0 : 1;
}
