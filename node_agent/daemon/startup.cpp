// run_agent: from options to a running agent (see options.hpp). Everything here runs once,
// before or after the event loop; the loop itself is Agent's.
#include "node_agent/daemon/agent.hpp"
#include "node_agent/daemon/options.hpp"
#include "node_agent/daemon/shim_recovery.hpp"
#include "node_agent/discovery/discover.hpp"
#include "node_agent/exec/posix_launcher.hpp"
#include "node_agent/exec/user.hpp"
#include "node_agent/exec/user_cache.hpp"
#include "node_agent/link/backoff.hpp"
#include "node_agent/link/join_client.hpp"
#include "node_agent/link/scheduler_url.hpp"
#include "node_agent/state/recovery.hpp"
#include "node_agent/tasks/layout.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <pwd.h>
#include <set>
#include <signal.h>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace openbatch::agent::daemon {
namespace fs = std::filesystem;
namespace {

Result<nlohmann::json> discover_inventory(const DiscoveryFlags& flags) {
  discovery::DiscoveryOptions options;
  options.sysfs_root = flags.sysfs_root;
  options.proc_root = flags.proc_root;
  options.gpu_inventory_file = flags.gpu_inventory;
  auto inventory = discovery::discover(options);
  if (!inventory) return inventory.error();
  if (!flags.hostname.empty()) inventory->hostname = flags.hostname;
  for (const auto& w : inventory->warnings) spdlog::warn("discovery: {}", w);
  nlohmann::json j = *inventory;
  return j;
}

bool is_within(const fs::path& inner, const fs::path& outer) {
  const fs::path a = fs::weakly_canonical(inner);
  const fs::path b = fs::weakly_canonical(outer);
  auto mismatch = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return mismatch.first == b.end();
}

Status make_dir(const fs::path& dir, mode_t mode) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(500, "StateWriteFailed", "creating " + dir.string() + ": " + ec.message());
  if (::chmod(dir.c_str(), mode) != 0) {
    return Error(500, "StateWriteFailed",
                 "chmod " + dir.string() + ": " + posix::errno_text(errno));
  }
  return {};
}

// The Azure tree every task expects: shared/ is writable by every task (sticky, like /tmp).
Status make_node_tree(const fs::path& root) {
  const tasks::NodeLayout layout(root);
  if (auto st = make_dir(layout.root(), 0755); !st) return st;
  if (auto st = make_dir(layout.shared_dir(), 01777); !st) return st;
  for (const auto& dir : {layout.startup_dir(), layout.workitems_dir(), layout.applications_dir(),
                          layout.mounts_dir(), layout.volatile_dir()}) {
    if (auto st = make_dir(dir, 0755); !st) return st;
  }
  return {};
}

std::string read_token(const fs::path& file) {
  // The join token lets its holder join a node to the pool, and be sent the pool's tasks and
  // their secrets: it belongs in a file only root reads (the image recipes install it 0600).
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    spdlog::warn(
        "the join token file {} may be read by group or others (mode {:04o}): chmod 600 it",
        file.string(), st.st_mode & 07777);
  }
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return token;
}

// Joins the pool, retrying while the scheduler is unreachable. An Error only for a refusal.
Result<state::NodeIdentity> join_pool(const AgentOptions& o, const link::SchedulerUrl& url,
                                      const nlohmann::json& inventory) {
  link::JoinRequest request;
  request.pool_id = o.pool;
  request.hostname = inventory.value("hostname", std::string());
  request.inventory = inventory;
  request.join_token = read_token(o.join_token_file);
  if (request.join_token.empty()) {
    return Error(400, std::string(link::kJoinRefused),
                 "the join token file " + o.join_token_file.string() + " is empty or unreadable");
  }
  link::Backoff backoff(std::chrono::milliseconds(o.reconnect_min_ms),
                        std::chrono::milliseconds(o.reconnect_max_ms));
  while (true) {
    auto answer = link::join(url, request);
    if (answer) {
      spdlog::info("joined pool {} as node {}", answer->pool_id, answer->node_id);
      return state::NodeIdentity{answer->node_id, answer->node_token, answer->pool_id};
    }
    if (answer.error().code == link::kJoinRefused) return answer.error();
    const auto delay = backoff.next();
    spdlog::warn("{}; retrying in {} ms", answer.error().message, delay.count());
    std::this_thread::sleep_for(delay);
  }
}

std::string own_user_name() {
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(::geteuid(), &pw, buffer.data(), buffer.size(), &found) == 0 && found) {
    return found->pw_name;
  }
  return std::to_string(::geteuid());
}

// Creates an unprivileged task user (with its own group) when the agent runs as root and it is
// missing: the pool's task user at start, task-scope auto-users when a task first needs one.
Status ensure_task_user(const std::string& name) {
  if (exec::lookup_user(name)) return {};
  spdlog::info("creating the task user {}", name);
  exec::PosixLauncher launcher;
  exec::LaunchSpec spec;
  spec.argv = {"useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name};
  spec.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  spec.new_process_group = false;
  auto child = launcher.launch(spec);
  if (!child) {
    spdlog::error("useradd {}: {}; its tasks will fail", name, child.error().message);
    return Error(500, "UserNotFound", "useradd " + name + ": " + child.error().message);
  }
  auto status = launcher.wait(*child, std::chrono::seconds(60));
  if (!status || status->exit_code != 0) {
    spdlog::error("useradd {} failed; its tasks will fail", name);
    return Error(500, "UserNotFound", "useradd " + name + " failed");
  }
  return {};
}

// The program tasks run under: --shim-path, else openbatch-shim beside this agent's binary (as
// installed), else this binary's own `shim` subcommand ("/proc/self/exe"), which works as well
// but costs each task's start the loading of the whole agent.
std::filesystem::path shim_executable(const std::filesystem::path& configured) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto beside = self.parent_path() / "openbatch-shim";
    if (::access(beside.c_str(), X_OK) == 0) return beside;
  }
  spdlog::warn(
      "no openbatch-shim beside {}: tasks start under this binary's `shim` subcommand (slower)",
      ec ? "/proc/self/exe" : self.string());
  return "/proc/self/exe";
}

}  // namespace

int print_inventory(const DiscoveryFlags& flags) {
  auto inventory = discover_inventory(flags);
  if (!inventory) {
    std::cerr << "openbatch-agent: discovery failed: " << inventory.error().message << '\n';
    return 1;
  }
  std::cout << inventory->dump(2) << '\n';
  return 0;
}

int run_agent(const AgentOptions& o) {
  auto url = link::parse_scheduler_url(o.scheduler);
  if (!url) {
    spdlog::error("{}", url.error().message);
    return kExitUsage;
  }
  if (o.root.empty() || o.state_dir.empty()) {
    spdlog::error("--root and --state-dir are required");
    return kExitUsage;
  }
  if (is_within(o.state_dir, o.root)) {
    spdlog::error("--state-dir {} must not be inside --root {}: tasks can write there",
                  o.state_dir.string(), o.root.string());
    return kExitUsage;
  }
  if (auto st = make_dir(o.state_dir, 0700); !st) {
    spdlog::error("{}", st.error().message);
    return kExitStateFailed;
  }
  if (auto st = make_node_tree(o.root); !st) {
    spdlog::error("{}", st.error().message);
    return kExitStateFailed;
  }
  auto inventory = discover_inventory(o.discovery);
  if (!inventory) {
    spdlog::error("discovery failed: {}", inventory.error().message);
    return kExitStateFailed;
  }

  const fs::path identity_file = o.state_dir / state::kNodeIdentityFile;
  auto loaded = state::load_node_identity(identity_file);
  if (!loaded) {
    spdlog::error("{}", loaded.error().message);
    return kExitStateFailed;
  }
  state::NodeIdentity identity;
  if (*loaded) {
    identity = std::move(**loaded);
  } else {
    if (o.pool.empty() || o.join_token_file.empty()) {
      spdlog::error("{} does not exist: --pool and --join-token-file are needed to join",
                    identity_file.string());
      return kExitUsage;
    }
    auto joined = join_pool(o, *url, *inventory);
    if (!joined) {
      spdlog::error("{}", joined.error().message);
      return kExitJoinRefused;
    }
    identity = std::move(*joined);
    if (auto st = state::save_node_identity(identity_file, identity); !st) {
      spdlog::error("{}", st.error().message);
      return kExitStateFailed;
    }
  }

  auto journal = state::Journal::open(o.state_dir / state::kJournalFile);
  if (!journal) {
    spdlog::error("{}", journal.error().message);
    return kExitStateFailed;
  }
  state::ProcProcessProbe probe;
  // Tasks run under shims that outlive the agent: take back what the previous agent left.
  shim::ShimConfig shims;
  shims.executable = shim_executable(o.shim_path);
  shims.subcommand = shims.executable == "/proc/self/exe";
  shims.dir = o.state_dir / shim::kShimsDir;
  shims.max_output_bytes = o.max_task_output;
  shims.boot_id = probe.boot_id();
  if (auto st = make_dir(shims.dir, 0700); !st) {
    spdlog::error("{}", st.error().message);
    return kExitStateFailed;
  }
  std::vector<runner::AdoptedAttempt> adopted = recover_shims(shims, (*journal)->state());
  std::set<std::string> adopted_ids;
  for (const auto& a : adopted) adopted_ids.insert(a.attempt_id);
  auto recovered = state::recover(**journal, probe, adopted_ids);
  if (!recovered) {
    spdlog::error("{}", recovered.error().message);
    return kExitStateFailed;
  }
  if (!adopted.empty()) {
    spdlog::info(
        "recovery: {} attempts of the previous agent are still running or ended under their shims: "
        "taking them over",
        adopted.size());
  }
  if (!recovered->abandoned.empty()) {
    spdlog::warn(
        "recovery: {} attempts of the previous agent abandoned ({} process groups "
        "killed); the scheduler requeues them",
        recovered->abandoned.size(), recovered->killed_groups.size());
  }

  AgentConfig config;
  config.identity = identity;
  config.inventory = std::move(*inventory);
  config.boot_id = probe.boot_id();
  config.link.host = url->host;
  config.link.port = url->port;
  config.link.target = url->link_target();
  config.link.token = identity.node_token;
  config.link.reconnect_min = std::chrono::milliseconds(o.reconnect_min_ms);
  config.link.reconnect_max = std::chrono::milliseconds(o.reconnect_max_ms);
  runner::NodeFacts& facts = config.runner.facts;
  facts.pool_id = identity.pool_id;
  facts.node_id = identity.node_id;
  facts.node_root = o.root;
  facts.task_user = o.task_user;
  if (::geteuid() == 0) {
    (void)ensure_task_user(o.task_user);
    config.runner.ensure_user = [](const std::string& name) { return ensure_task_user(name); };
  } else {
    facts.run_as_agent_user = true;
    facts.agent_user = own_user_name();
    spdlog::warn("the agent is not root: every task runs as {} whatever its userIdentity",
                 facts.agent_user);
  }
  // One NSS lookup per user, not per task (user_cache.hpp).
  auto users = std::make_shared<exec::UserCache>();
  config.runner.lookup = [users](std::string_view name) { return users->lookup(name); };
  config.runner.kill_grace = std::chrono::seconds(std::max(0, o.kill_grace_seconds));
  config.scheduler_base_url = url->base();
  config.setup_state_file = o.state_dir / "setup.json";
  config.rediscover = [flags = o.discovery]() -> nlohmann::json {
    auto found = discover_inventory(flags);
    if (!found) {
      spdlog::warn("rediscovery after the node setup failed: {}", found.error().message);
      return nlohmann::json::object();
    }
    return std::move(*found);
  };
  if (!o.discovery.gpu_inventory.empty()) {
    // A GPU fixture stands in for the driver: a start task that "installs" one (tests, the
    // stand-in NVIDIA installer) records its version there (start_tasks/install-nvidia-driver.sh).
    facts.node_environment.push_back("OPENBATCH_GPU_INVENTORY=" +
                                     fs::absolute(o.discovery.gpu_inventory).string());
  }

  auto exec_listen = remote::parse_exec_listen(o.exec_listen);
  if (!exec_listen) {
    spdlog::error("{}", exec_listen.error().message);
    return kExitUsage;
  }
  config.exec_listen = *exec_listen;
  config.exec_state_file = o.state_dir / kRemoteLaunchStateFile;
  // mpirun in a multi-instance task starts its remote daemons through this very binary.
  std::error_code self_ec;
  facts.agent_executable = fs::read_symlink("/proc/self/exe", self_ec).string();
  if (o.task_shims) {
    config.runner.shim = shims;
  } else {
    spdlog::warn(
        "--task-shims off: tasks start without a shim; an agent restart stops and requeues them, "
        "and --max-task-output is not enforced");
  }

  ::signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io(1);
  exec::PosixLauncher launcher;
  Agent agent(io, std::move(config), **journal, launcher);
  for (auto& a : adopted) agent.adopt(std::move(a));
  agent.start();
  io.run();
  return agent.exit_code();
}

}  // namespace openbatch::agent::daemon
