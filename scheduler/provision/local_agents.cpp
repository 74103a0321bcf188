#include "scheduler/provision/local_agents.hpp"

#include "common/files/beneath.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace openbatch::provision {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool write_file_atomically(const fs::path& path, const std::string& text, mode_t mode) {
  const fs::path tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return false;
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

// Runs `spawn` (a posix_spawn) with `mask` as the umask the child inherits. The umask is
// per process; a thread of our own that unshares its filesystem attributes (CLONE_FS) has its
// own, so the scheduler's 077 stays in force for every other thread meanwhile.
int spawn_with_umask(mode_t mask, const std::function<int()>& spawn) {
  int rc = 0;
  std::thread worker([&] {
    if (::unshare(CLONE_FS) == 0) {
      ::umask(mask);
    } else {
      spdlog::warn("local provisioner: unshare(CLONE_FS): {}; the agent inherits umask 077",
                   std::strerror(errno));
    }
    rc = spawn();
  });
  worker.join();
  return rc;
}

}  // namespace

LocalAgents::LocalAgents(LocalAgentsConfig config) : config_(std::move(config)) {}

LocalAgents::~LocalAgents() = default;

fs::path LocalAgents::root_dir(const std::string& pool_id, const std::string& node_id) const {
  return config_.nodes_dir / pool_id / node_id;
}

fs::path LocalAgents::state_dir(const std::string& pool_id, const std::string& node_id) const {
  return config_.data_dir / "agents" / pool_id / node_id;
}

bool LocalAgents::has_identity(const std::string& pool_id, const std::string& node_id) const {
  std::error_code ec;
  return fs::exists(state_dir(pool_id, node_id) / "node.json", ec);
}

bool LocalAgents::write_identity(const std::string& pool_id, const std::string& node_id,
                                 const std::string& token) {
  const fs::path dir = state_dir(pool_id, node_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    spdlog::error("local provisioner: cannot create {}: {}", dir.string(), ec.message());
    return false;
  }
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  const nlohmann::json identity = {{"nodeId", node_id}, {"nodeToken", token}, {"poolId", pool_id}};
  if (!write_file_atomically(dir / "node.json", identity.dump(), 0600)) {
    spdlog::error("local provisioner: cannot write {}/node.json: {}", dir.string(),
                  std::strerror(errno));
    return false;
  }
  return true;
}

// An agent left running by an earlier scheduler: its pid file names a live process whose
// command line names this node's state directory.
pid_t LocalAgents::find_running(const std::string& pool_id, const std::string& node_id,
                                bool& current) const {
  const fs::path dir = state_dir(pool_id, node_id);
  const std::string text = read_file(dir / "agent.pid");
  pid_t pid = 0;
  try {
    pid = static_cast<pid_t>(std::stol(text));
  } catch (...) {
    return -1;
  }
  if (pid <= 1 || ::kill(pid, 0) != 0) return -1;
  std::string cmdline = read_file(fs::path("/proc") / std::to_string(pid) / "cmdline");
  for (char& c : cmdline) {
    if (c == '\0') c = ' ';
  }
  cmdline += ' ';
  if (cmdline.find("openbatch-agent") == std::string::npos ||
      cmdline.find(dir.string() + " ") == std::string::npos) {
    return -1;
  }
  current =
      cmdline.find(" --scheduler " + config_.scheduler_url + " ") != std::string::npos &&
      cmdline.find(" --root " + root_dir(pool_id, node_id).string() + " ") != std::string::npos;
  return pid;
}

pid_t LocalAgents::spawn(const std::string& pool_id, const std::string& node_id) {
  const fs::path root = root_dir(pool_id, node_id);
  const fs::path state = state_dir(pool_id, node_id);
  std::error_code ec;
  // <nodes-dir> exists (main.cpp); its <pool> and <node> below are 0755 whatever our umask.
  for (const fs::path& dir : {root.parent_path(), root}) {
    if (::mkdir(dir.c_str(), 0755) == 0) ::chmod(dir.c_str(), 0755);
  }
  fs::create_directories(state, ec);
  std::vector<std::string> args = {config_.agent_binary.string(),
                                   "run",
                                   "--scheduler",
                                   config_.scheduler_url,
                                   "--root",
                                   root.string(),
                                   "--state-dir",
                                   state.string()};
  args.insert(args.end(), config_.extra_args.begin(), config_.extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = (state / "agent.log").string();
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // Nothing of ours leaks into the agent: an inherited listening socket would keep the
  // scheduler's port bound after the scheduler is gone.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own session: the agent (and its tasks) outlive a crash of the scheduler.
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigfillset(&defaults);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  pid_t pid = -1;
  const int rc = spawn_with_umask(config_.agent_umask, [&] {
    return posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  });
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    spdlog::error("local provisioner: cannot start {}: {}", config_.agent_binary.string(),
                  std::strerror(rc));
    return -1;
  }
  write_file_atomically(state / "agent.pid", std::to_string(pid) + "\n", 0600);
  spdlog::info("local provisioner: started agent pid {} for node {} of pool {}", pid, node_id,
               pool_id);
  return pid;
}

void LocalAgents::ensure(const std::string& pool_id, const std::string& node_id) {
  auto it = agents_.find(node_id);
  if (it != agents_.end()) return;  // running, restarting, or stopping on purpose
  Agent agent;
  agent.pool_id = pool_id;
  agent.node_id = node_id;
  bool current = false;
  agent.pid = find_running(pool_id, node_id, current);
  if (agent.pid > 0 && !current) {
    // It talks to an earlier address of the scheduler and would never link, or uses a node
    // root of an earlier version: stop it (its attempts are requeued) and start a fresh one
    // once it is gone. Never two on one journal.
    spdlog::info(
        "local provisioner: agent pid {} of node {} uses another scheduler URL or node root; "
        "restarting it",
        agent.pid, node_id);
    ::kill(agent.pid, SIGTERM);
    agent.stopping = true;
    agent.respawn = true;
    agent.stop_sent = Clock::now();
  } else if (agent.pid > 0) {
    spdlog::info("local provisioner: adopted running agent pid {} of node {}", agent.pid, node_id);
  } else {
    agent.pid = spawn(pool_id, node_id);
    agent.child = agent.pid > 0;
    if (agent.pid <= 0) agent.restart_at = Clock::now() + config_.restart_backoff;
  }
  agent.started = Clock::now();
  agents_.emplace(node_id, std::move(agent));
}

void LocalAgents::stop(const std::string& pool_id, const std::string& node_id, bool remove) {
  auto it = agents_.find(node_id);
  if (it == agents_.end()) {
    Agent gone;
    gone.pool_id = pool_id;
    gone.node_id = node_id;
    bool current = false;
    gone.pid = find_running(pool_id, node_id, current);
    if (gone.pid <= 0) {
      if (remove) remove_dirs(gone);
      return;
    }
    it = agents_.emplace(node_id, std::move(gone)).first;
  }
  Agent& agent = it->second;
  agent.remove_dirs = agent.remove_dirs || remove;
  agent.respawn = false;
  if (!agent.stopping) {
    agent.stopping = true;
    agent.stop_sent = Clock::now();
    if (agent.pid > 0) ::kill(agent.pid, SIGTERM);
  }
}

bool LocalAgents::alive(Agent& agent) {
  if (agent.pid <= 0) return false;
  if (agent.child) {
    int status = 0;
    pid_t r = ::waitpid(agent.pid, &status, WNOHANG);
    if (r == 0) return true;
    if (r == agent.pid) {
      if (!agent.stopping) {
        spdlog::warn("local provisioner: agent pid {} of node {} exited ({} {})", agent.pid,
                     agent.node_id, WIFEXITED(status) ? "status" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
      }
      agent.pid = -1;
      return false;
    }
    if (errno == ECHILD) agent.child = false;  // not ours after all; fall through to kill(0)
  }
  if (::kill(agent.pid, 0) == 0) return true;
  agent.pid = -1;
  return false;
}

void LocalAgents::poll() {
  const auto now = Clock::now();
  for (auto it = agents_.begin(); it != agents_.end();) {
    Agent& agent = it->second;
    const bool up = alive(agent);
    if (agent.stopping) {
      if (!up && agent.respawn) {
        agent.stopping = false;
        agent.respawn = false;
        agent.pid = spawn(agent.pool_id, agent.node_id);
        agent.child = agent.pid > 0;
        agent.started = now;
        if (agent.pid <= 0) agent.restart_at = now + config_.restart_backoff;
        ++it;
        continue;
      }
      if (!up) {
        if (agent.remove_dirs) remove_dirs(agent);
        it = agents_.erase(it);
        continue;
      }
      if (now - agent.stop_sent > config_.stop_grace) ::kill(agent.pid, SIGKILL);
      ++it;
      continue;
    }
    if (!up) {
      if (agent.restart_at == Clock::time_point{}) agent.restart_at = now + config_.restart_backoff;
      if (now >= agent.restart_at) {
        agent.pid = spawn(agent.pool_id, agent.node_id);
        agent.child = agent.pid > 0;
        agent.started = now;
        agent.restart_at = agent.pid > 0 ? Clock::time_point{} : now + config_.restart_backoff;
      }
    }
    ++it;
  }
}

void LocalAgents::stop_all() {
  for (auto& [id, agent] : agents_) {
    if (!agent.stopping) stop(agent.pool_id, agent.node_id, false);
  }
  const auto deadline = Clock::now() + config_.stop_grace;
  while (!agents_.empty() && Clock::now() < deadline) {
    poll();
    if (!agents_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& [id, agent] : agents_) {
    if (agent.pid > 0) ::kill(agent.pid, SIGKILL);
  }
  poll();
}

void LocalAgents::remove_dirs(const Agent& agent) const {
  std::error_code ec;
  // Its tasks wrote there: removed through descriptors, never following a link they left.
  (void)files::remove_tree(root_dir(agent.pool_id, agent.node_id));
  fs::remove_all(state_dir(agent.pool_id, agent.node_id), ec);
}

}  // namespace openbatch::provision
