// openbatch-bench-agent_sim: many simulated nodes in one process, each a WebSocket link that
// speaks the real agent protocol (bench/sim/sim_node.hpp), against a running scheduler. It
// creates a static pool (openbatch.provisioner=static, enableInterNodeCommunication) of N
// nodes, takes its join token, and measures, with the scheduler's CPU from /proc/<pid>/stat:
//   1. join: N nodes join and link with bounded concurrency, until /nodecounts says N idle;
//   2. idle: the scheduler's CPU over a window of heartbeats (% of one core) and its RSS;
//   3. dispatch: M plain tasks added in collections of 100 by C client threads; tasks/s from
//      the first assignment to the last completed report acked (acked = applied);
//   4. gang: one multi-instance task of I instances, POST -> its primary's completed report
//      acked, then checked completed through the API.
// The simulator itself raises RLIMIT_NOFILE and binds each node to its own 127.0.0.0/8 source
// address, so 50,000 links need neither more fds nor ephemeral ports than one address has.
#include "common/http/client.hpp"

#include "bench/command_line.hpp"
#include "bench/machine_cpu.hpp"
#include "bench/sim/sim_node.hpp"
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
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
namespace sim = openbatch::bench::sim;
using sim::SteadyClock;

struct Options {
  std::string url;
  std::string account = "openbatch";
  std::string key;
  int scheduler_pid = 0;
  std::uint64_t nodes = 1000;
  std::uint64_t link_nodes = UINT64_MAX;  // nodes that link after joining; the rest only join
  unsigned slots = 1;
  unsigned concurrency = 256;  // joins and links in flight at once
  unsigned threads = 1;        // I/O threads of the simulated nodes
  double idle_seconds = 30;
  std::uint64_t tasks = 20000;
  unsigned clients = 4;
  std::uint64_t instances = 1000;
  unsigned run_ms = 0;
  bool hold = true;          // dispatch phase: add to a disabled job, then enable it
  unsigned timeout_s = 600;  // per phase
  std::string pool = "simpool";
};

std::int64_t steady_ns_now() { return sim::steady_ns(); }

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

std::string describe(const openbatch::Result<HttpResponse>& res) {
  if (!res) return "transport: " + res.error().code + ": " + res.error().message;
  return "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300);
}

// ---------------------------------------------------------------- the scheduler's process

struct ProcSample {
  SteadyClock::time_point at;
  double scheduler_cpu = 0;  // utime + stime, seconds
  double self_cpu = 0;
  double machine_busy = 0;
};

double proc_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return 0;
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// VmRSS of a process in MiB (0 when unreadable).
double rss_mib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec) + double(u.ru_utime.tv_usec) / 1e6 + double(u.ru_stime.tv_sec) +
         double(u.ru_stime.tv_usec) / 1e6;
}

ProcSample sample(const Options& opt) {
  return {SteadyClock::now(), opt.scheduler_pid > 0 ? proc_cpu_seconds(opt.scheduler_pid) : 0.0,
          self_cpu_seconds(), openbatch::bench::read_machine_cpu().busy};
}

struct PhaseCost {
  double wall = 0, scheduler_cpu = 0, self_cpu = 0, machine_busy = 0;
};

PhaseCost cost(const ProcSample& a, const ProcSample& b) {
  return {std::chrono::duration<double>(b.at - a.at).count(), b.scheduler_cpu - a.scheduler_cpu,
          b.self_cpu - a.self_cpu, b.machine_busy - a.machine_busy};
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

void print_cost(const char* phase, const PhaseCost& c, const Options& opt) {
  std::printf(
      "  %s: wall %.3f s; scheduler CPU %.3f s; simulator CPU %.3f s; machine busy %.2f core-s "
      "(%ld cores); scheduler RSS %.0f MiB; load %s\n",
      phase, c.wall, c.scheduler_cpu, c.self_cpu, c.machine_busy, sysconf(_SC_NPROCESSORS_ONLN),
      rss_mib(opt.scheduler_pid), loadavg().c_str());
}

// ---------------------------------------------------------------- REST setup

bool create_pool(BatchClient& client, const Options& opt) {
  json body = {
      {"id", opt.pool},
      {"vmSize", "STANDARD_D2S_V3"},
      {"virtualMachineConfiguration",
       {{"imageReference",
         {{"publisher", "canonical"},
          {"offer", "0001-com-ubuntu-server-jammy"},
          {"sku", "22_04-lts"},
          {"version", "latest"}}},
        {"nodeAgentSKUId", "batch.node.ubuntu 22.04"}}},
      {"targetDedicatedNodes", opt.nodes},
      {"taskSlotsPerNode", opt.slots},
      {"enableInterNodeCommunication", true},
      {"metadata", json::array({{{"name", "openbatch.provisioner"}, {"value", "static"}}})}};
  auto res = client.request("POST", "/pools", body.dump());
  if (!res || res->status != 201) {
    std::fprintf(stderr, "agent_sim: creating pool %s failed: %s\n", opt.pool.c_str(),
                 describe(res).c_str());
    return false;
  }
  return true;
}

std::string join_token(BatchClient& client, const Options& opt) {
  auto res = client.request("POST", "/pools/" + opt.pool + "/jointoken");
  if (!res || res->status != 200) {
    std::fprintf(stderr, "agent_sim: join token: %s\n", describe(res).c_str());
    return {};
  }
  return json::parse(res->body, nullptr, false).value("joinToken", "");
}

bool create_job(BatchClient& client, const std::string& job, const Options& opt) {
  json body = {{"id", job}, {"poolInfo", {{"poolId", opt.pool}}}};
  auto res = client.request("POST", "/jobs", body.dump());
  if (!res || res->status != 201) {
    std::fprintf(stderr, "agent_sim: creating job %s failed: %s\n", job.c_str(),
                 describe(res).c_str());
    return false;
  }
  return true;
}

// Idle nodes of the pool per /nodecounts (-1 on failure).
long idle_nodes(BatchClient& client, const Options& opt) {
  auto res = client.request("GET", "/nodecounts");
  if (!res || res->status != 200) return -1;
  auto body = json::parse(res->body, nullptr, false);
  if (body.is_discarded()) return -1;
  for (const auto& entry : body.value("value", json::array())) {
    if (entry.value("poolId", "") == opt.pool) return entry["dedicated"].value("idle", 0L);
  }
  return -1;
}

// ---------------------------------------------------------------- phases

struct Simulation {
  boost::asio::io_context io;
  sim::SimConfig config;
  sim::SimCounters counters;
  std::vector<std::shared_ptr<sim::SimNode>> nodes;
  std::uint64_t link_nodes = 0;  // nodes [0, link_nodes) link; the others only join
  std::atomic<std::uint64_t> next{0};
};

// One of `concurrency` workers: starts nodes one after the other until all are started.
boost::asio::awaitable<void> start_worker(Simulation& s, std::uint64_t total) {
  for (;;) {
    const std::uint64_t index = s.next.fetch_add(1);
    if (index >= total) co_return;
    auto node = std::make_shared<sim::SimNode>(s.io, s.config, s.counters, index);
    const bool links = index < s.link_nodes;
    if (links) s.nodes[index] = node;
    const bool ready = co_await boost::asio::co_spawn(node->strand(), node->start(links),
                                                      boost::asio::use_awaitable);
    if (!links) continue;  // joined only: nothing more to run
    if (ready) boost::asio::co_spawn(node->strand(), node->run(), boost::asio::detached);
  }
}

bool wait_for(const std::function<bool()>& done, unsigned timeout_s, const char* what,
              const std::function<std::string()>& progress) {
  const auto start = SteadyClock::now();
  while (!done()) {
    if (seconds_since(start) > timeout_s) {
      std::fprintf(stderr, "agent_sim: %s not done after %u s (%s)\n", what, timeout_s,
                   progress().c_str());
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

struct Results {
  double join_wall = -1, join_cpu = -1, join_sim_ready_wall = -1;
  double idle_pct = -1, idle_rss = -1, idle_window = 0;
  double dispatch_tasks_per_s = -1, dispatch_submit_wall = -1, dispatch_wall = -1,
         dispatch_cpu = -1;
  double gang_wall = -1, gang_cpu = -1;
};

bool join_phase(Simulation& s, BatchClient& admin, const Options& opt, Results& r) {
  std::printf("== join: %llu nodes, %u in flight\n", (unsigned long long)opt.nodes,
              opt.concurrency);
  const auto before = sample(opt);
  for (unsigned i = 0; i < std::min<std::uint64_t>(opt.concurrency, opt.nodes); ++i) {
    boost::asio::co_spawn(s.io, start_worker(s, opt.nodes), boost::asio::detached);
  }
  auto& c = s.counters;
  auto progress = [&] {
    return "joined " + std::to_string(c.joined) + ", ready " + std::to_string(c.ready) +
           ", failed " + std::to_string(c.failed) +
           (c.failed ? " (first: " + c.first_error + ")" : "");
  };
  const std::uint64_t linking = s.link_nodes;
  if (linking < opt.nodes)
    std::printf("  %llu nodes link, %llu only join (POST /agent/v1/join, no link)\n",
                (unsigned long long)linking, (unsigned long long)(opt.nodes - linking));
  if (!wait_for([&] { return c.ready + c.failed >= linking && c.joined + c.failed >= opt.nodes; },
                opt.timeout_s, "join", progress))
    return false;
  r.join_sim_ready_wall = seconds_since(before.at);
  if (c.failed) {
    std::fprintf(stderr, "agent_sim: %s\n", progress().c_str());
    return false;
  }
  long idle = 0;
  if (!wait_for(
          [&] {
            idle = idle_nodes(admin, opt);
            if (idle >= long(linking)) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            return false;
          },
          opt.timeout_s, "nodes idle", [&] { return "idle " + std::to_string(idle); }))
    return false;
  const auto after = sample(opt);
  const PhaseCost pc = cost(before, after);
  print_cost("join (all idle per /nodecounts)", pc, opt);
  std::printf("  all nodes sent nodeStatus ready after %.3f s\n", r.join_sim_ready_wall);
  r.join_wall = pc.wall;
  r.join_cpu = pc.scheduler_cpu;
  return true;
}

void idle_phase(Simulation& s, const Options& opt, Results& r) {
  if (opt.idle_seconds <= 0) return;
  std::printf("== idle: %.0f s of heartbeats\n", opt.idle_seconds);
  const std::uint64_t beats = s.counters.heartbeats;
  const auto before = sample(opt);
  std::this_thread::sleep_for(std::chrono::duration<double>(opt.idle_seconds));
  const auto after = sample(opt);
  const PhaseCost pc = cost(before, after);
  print_cost("idle", pc, opt);
  r.idle_window = pc.wall;
  r.idle_pct = 100.0 * pc.scheduler_cpu / pc.wall;
  r.idle_rss = rss_mib(opt.scheduler_pid);
  std::printf("  %llu heartbeats (%.0f/s); scheduler %.2f%% of one core\n",
              (unsigned long long)(s.counters.heartbeats - beats),
              double(s.counters.heartbeats - beats) / pc.wall, r.idle_pct);
}

void add_share(const Options& opt, const std::string& job, std::uint64_t first, std::uint64_t count,
               std::atomic<std::uint64_t>& failed, std::string& error) {
  BatchClient client(opt.url, opt.account, opt.key);
  for (std::uint64_t n = first; n < first + count; n += 100) {
    const std::uint64_t size = std::min<std::uint64_t>(100, first + count - n);
    std::string body = R"({"value":[)";
    for (std::uint64_t i = n; i < n + size; ++i) {
      if (i != n) body += ',';
      body += R"({"id":"t-)" + std::to_string(i) + R"(","commandLine":"/bin/true"})";
    }
    body += "]}";
    auto res = client.request("POST", "/jobs/" + job + "/addtaskcollection", std::move(body));
    if (!res || res->status != 200) {
      failed += size;
      if (error.empty()) error = describe(res);
    }
  }
}

// POST /jobs/{job}/{action} (disable or enable) and waits until the job's state is `until`.
bool job_action(BatchClient& admin, const std::string& job, const std::string& action,
                const std::string& until, const Options& opt) {
  const std::string body = action == "disable" ? R"({"disableTasks":"requeue"})" : "";
  auto res = admin.request("POST", "/jobs/" + job + "/" + action, body);
  if (!res || res->status != 202) {
    std::fprintf(stderr, "agent_sim: %s job %s: %s\n", action.c_str(), job.c_str(),
                 describe(res).c_str());
    return false;
  }
  std::string state;
  return wait_for(
      [&] {
        auto got = admin.request("GET", "/jobs/" + job);
        if (got && got->status == 200) {
          state = json::parse(got->body, nullptr, false).value("state", "");
        }
        if (state == until) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return false;
      },
      opt.timeout_s, ("job " + action).c_str(), [&] { return "state " + state; });
}

// Adds the tasks (collections of 100, --clients threads); false when any was refused.
bool add_tasks(const Options& opt, const std::string& job) {
  std::atomic<std::uint64_t> failed{0};
  std::vector<std::string> errors(opt.clients);
  std::vector<std::thread> clients;
  const std::uint64_t share = (opt.tasks + opt.clients - 1) / opt.clients;
  for (unsigned i = 0; i < opt.clients; ++i) {
    const std::uint64_t first = i * share;
    if (first >= opt.tasks) break;
    clients.emplace_back(add_share, std::cref(opt), job, first, std::min(share, opt.tasks - first),
                         std::ref(failed), std::ref(errors[i]));
  }
  for (auto& t : clients) t.join();
  for (const auto& e : errors)
    if (!e.empty()) std::fprintf(stderr, "agent_sim: adding tasks failed: %s\n", e.c_str());
  return failed == 0;
}

// With --hold (the default) the tasks are added to a disabled job and the clock starts when it
// is enabled: the dispatch rate alone, not bounded by how fast the clients add tasks. Without
// it the tasks are dispatched while they are being added.
bool dispatch_phase(Simulation& s, BatchClient& admin, const Options& opt, Results& r) {
  if (opt.tasks == 0) return true;
  std::printf(
      "== dispatch: %llu tasks, %u clients, collections of 100, %s\n",
      (unsigned long long)opt.tasks, opt.clients,
      opt.hold ? "added to a disabled job, then the job enabled" : "dispatched while being added");
  if (!create_job(admin, "dispatch", opt)) return false;
  if (opt.hold && !job_action(admin, "dispatch", "disable", "disabled", opt)) return false;
  auto& c = s.counters;
  const std::uint64_t done_before = c.completed_acked;
  c.first_assignment_ns = 0;
  const auto added_from = sample(opt);
  if (!add_tasks(opt, "dispatch")) return false;
  const auto added = sample(opt);
  r.dispatch_submit_wall = cost(added_from, added).wall;
  std::printf("  adding: %.3f s = %.0f tasks/s; scheduler CPU %.3f s\n", r.dispatch_submit_wall,
              double(opt.tasks) / r.dispatch_submit_wall, cost(added_from, added).scheduler_cpu);
  const auto before = opt.hold ? sample(opt) : added_from;
  const auto enabled_at = steady_ns_now();
  if (opt.hold && !job_action(admin, "dispatch", "enable", "active", opt)) return false;
  if (!wait_for([&] { return c.completed_acked - done_before >= opt.tasks; }, opt.timeout_s,
                "dispatch",
                [&] {
                  return "assignments " + std::to_string(c.assignments) + ", completed " +
                         std::to_string(c.completed_acked - done_before);
                }))
    return false;
  const auto after = sample(opt);
  const PhaseCost pc = cost(before, after);
  print_cost(opt.hold ? "dispatch (enable -> last completed report acked)"
                      : "dispatch (first POST -> last completed report acked)",
             pc, opt);
  const double first_to_last = double(c.last_completed_ack_ns - c.first_assignment_ns) / 1e9;
  const double enable_to_last = double(c.last_completed_ack_ns - enabled_at) / 1e9;
  r.dispatch_wall = opt.hold ? enable_to_last : first_to_last;
  r.dispatch_tasks_per_s = double(opt.tasks) / r.dispatch_wall;
  r.dispatch_cpu = pc.scheduler_cpu;
  std::printf(
      "  %s -> last completion %.3f s = %.0f tasks/s (first assignment -> last completion "
      "%.3f s); scheduler CPU per 1,000 tasks %.3f s\n",
      opt.hold ? "enable" : "first assignment", r.dispatch_wall, r.dispatch_tasks_per_s,
      first_to_last, 1000.0 * pc.scheduler_cpu / double(opt.tasks));
  return true;
}

bool gang_phase(Simulation& s, BatchClient& admin, const Options& opt, Results& r) {
  if (opt.instances == 0) return true;
  if (opt.instances > s.link_nodes) {
    std::printf("== gang: skipped (%llu instances > %llu linked nodes)\n",
                (unsigned long long)opt.instances, (unsigned long long)s.link_nodes);
    return true;
  }
  std::printf("== gang: one multi-instance task of %llu instances\n",
              (unsigned long long)opt.instances);
  if (!create_job(admin, "gang", opt)) return false;
  auto& c = s.counters;
  c.gang_primary_done_ns = 0;
  c.gang_instances_coordinated = 0;
  json task = {{"id", "mpi"},
               {"commandLine", "/bin/true"},
               {"multiInstanceSettings",
                {{"numberOfInstances", opt.instances}, {"coordinationCommandLine", "/bin/true"}}}};
  const auto before = sample(opt);
  auto res = admin.request("POST", "/jobs/gang/tasks", task.dump());
  if (!res || res->status != 201) {
    std::fprintf(stderr, "agent_sim: adding the gang task failed: %s\n", describe(res).c_str());
    return false;
  }
  if (!wait_for(
          [&] { return c.gang_primary_done_ns != 0; }, opt.timeout_s, "gang",
          [&] { return "instances coordinated " + std::to_string(c.gang_instances_coordinated); }))
    return false;
  const auto after = sample(opt);
  const PhaseCost pc = cost(before, after);
  print_cost("gang (POST -> primary's completed report acked)", pc, opt);
  r.gang_wall = pc.wall;
  r.gang_cpu = pc.scheduler_cpu;
  auto check = admin.request("GET", "/jobs/gang/tasks/mpi");
  json body = check && check->status == 200 ? json::parse(check->body, nullptr, false) : json();
  const std::string state = body.is_object() ? body.value("state", "?") : describe(check);
  const std::string result =
      body.is_object() ? body.value("executionInfo", json::object()).value("result", "?") : "?";
  std::printf("  task state %s, result %s, instances coordinated %llu\n", state.c_str(),
              result.c_str(), (unsigned long long)c.gang_instances_coordinated);
  return state == "completed" && result == "success";
}

void raise_fd_limit(std::uint64_t wanted) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur >= wanted) return;
  rlimit raised{wanted, std::max<rlim_t>(wanted, limit.rlim_max)};
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    raised = {limit.rlim_max, limit.rlim_max};  // not root: as far as the hard limit allows
    setrlimit(RLIMIT_NOFILE, &raised);
  }
}

std::string figure(double v, const char* format) {
  if (v < 0) return "-";
  char out[32];
  std::snprintf(out, sizeof out, format, v);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"openbatch-bench-agent_sim: N simulated agents against a running scheduler"};
  app.add_option("--url", opt.url, "scheduler base URL (http://127.0.0.1:PORT)")->required();
  app.add_option("--account", opt.account)->capture_default_str();
  app.add_option("--scheduler-pid", opt.scheduler_pid, "for its CPU and RSS (/proc)");
  app.add_option("--nodes", opt.nodes, "simulated nodes")->capture_default_str();
  app.add_option("--link-nodes", opt.link_nodes,
                 "nodes that link after joining (default all); the others only join, so that "
                 "join cost can be measured past the scheduler's fd limit");
  app.add_option("--slots", opt.slots, "taskSlotsPerNode")->capture_default_str();
  app.add_option("--concurrency", opt.concurrency, "joins and links in flight")
      ->capture_default_str();
  app.add_option("--threads", opt.threads, "I/O threads of the simulator")->capture_default_str();
  app.add_option("--idle-seconds", opt.idle_seconds, "idle window; 0 skips")->capture_default_str();
  app.add_option("--tasks", opt.tasks, "plain tasks; 0 skips")->capture_default_str();
  app.add_option("--clients", opt.clients, "threads adding tasks")->capture_default_str();
  app.add_option("--instances", opt.instances, "instances of the gang task; 0 skips")
      ->capture_default_str();
  app.add_flag("!--no-hold", opt.hold,
               "dispatch while adding the tasks (default: add to a disabled job, then enable)");
  app.add_option("--run-ms", opt.run_ms, "how long each attempt 'runs'")->capture_default_str();
  app.add_option("--timeout-s", opt.timeout_s, "per phase")->capture_default_str();
  app.add_option("--pool", opt.pool)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each phase shows as it ends, through tee too
  if (const char* key = std::getenv("OPENBATCH_ACCOUNT_KEY")) opt.key = key;
  if (opt.key.empty()) {
    std::fprintf(stderr, "agent_sim: set OPENBATCH_ACCOUNT_KEY (the account key, base64)\n");
    return 2;
  }
  std::printf("command: OPENBATCH_ACCOUNT_KEY=\"$KEY\" %s\n",
              openbatch::bench::printable_command_line(argc, argv).c_str());
  const std::uint64_t link_nodes = std::min(opt.link_nodes, opt.nodes);
  raise_fd_limit(link_nodes * 2 + opt.concurrency + 1024);

  Simulation s;
  {
    // http://HOST:PORT
    const std::string rest = opt.url.substr(opt.url.find("://") + 3);
    const std::string hostport = rest.substr(0, rest.find('/'));
    const auto colon = hostport.rfind(':');
    s.config.scheduler =
        sim::tcp::endpoint(boost::asio::ip::make_address(hostport.substr(0, colon)),
                           std::uint16_t(std::stoi(hostport.substr(colon + 1))));
    s.config.host_header = hostport;
  }
  s.config.pool_id = opt.pool;
  s.config.run_time = std::chrono::milliseconds(opt.run_ms);
  s.nodes.resize(opt.nodes);
  s.link_nodes = link_nodes;

  BatchClient admin(opt.url, opt.account, opt.key);
  if (!create_pool(admin, opt)) return 1;
  s.config.join_token = join_token(admin, opt);
  if (s.config.join_token.empty()) return 1;

  auto work = boost::asio::make_work_guard(s.io);
  std::vector<std::thread> io_threads;
  for (unsigned i = 0; i < std::max(1u, opt.threads); ++i)
    io_threads.emplace_back([&] { s.io.run(); });

  Results r;
  bool ok = join_phase(s, admin, opt, r);
  if (ok) idle_phase(s, opt, r);
  if (ok) ok = dispatch_phase(s, admin, opt, r);
  if (ok) ok = gang_phase(s, admin, opt, r);
  std::printf("  links lost %llu, frames in %llu, out %llu\n",
              (unsigned long long)s.counters.links_lost.load(),
              (unsigned long long)s.counters.frames_in.load(),
              (unsigned long long)s.counters.frames_out.load());
  std::printf(
      "SUMMARY nodes=%llu linked=%llu join_s=%s join_cpu_s=%s idle_pct=%s idle_rss_mib=%s "
      "tasks=%llu "
      "tasks_per_s=%s dispatch_cpu_s=%s instances=%llu gang_s=%s gang_cpu_s=%s ok=%d\n",
      (unsigned long long)opt.nodes, (unsigned long long)link_nodes,
      figure(r.join_wall, "%.3f").c_str(), figure(r.join_cpu, "%.3f").c_str(),
      figure(r.idle_pct, "%.2f").c_str(), figure(r.idle_rss, "%.0f").c_str(),
      (unsigned long long)opt.tasks, figure(r.dispatch_tasks_per_s, "%.0f").c_str(),
      figure(r.dispatch_cpu, "%.3f").c_str(), (unsigned long long)opt.instances,
      figure(r.gang_wall, "%.3f").c_str(), figure(r.gang_cpu, "%.3f").c_str(), ok ? 1 : 0);
  std::fflush(stdout);
  // The links die with the process; nothing to wait for.
  std::_Exit(ok ? 0 : 1);
}
