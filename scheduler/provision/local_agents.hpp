// LocalAgents: the process side of the `local` provisioner. For each node of a local pool it
// runs one `openbatch-agent` on this machine, with its own node root
// (<nodes-dir>/<pool>/<node>, what LocalNodeFiles serves; 0755 all the way, as nonadmin tasks
// walk there) and private state directory (<data-dir>/agents/<pool>/<node>: node.json
// identity with the node token, journal, agent.pid, agent.log; inside the 0700 data
// directory, out of every task's reach). No secret is on an agent's command line: the node
// token is in node.json (0600), and the scheduler's environment loses the account key before
// any agent starts (main.cpp).
//
// Agents start with the umask the scheduler was started with (`agent_umask`), not the
// scheduler's own 077: tasks keep the usual file modes in shared directories.
//
// Agents run in their own session so they outlive a crash of the scheduler; a restarted
// scheduler adopts the ones still running (agent.pid, checked against /proc) instead of
// starting twins. poll() restarts agents that died while their node is still wanted, with a
// back-off. Used on the engine's strand only.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace openbatch::provision {

struct LocalAgentsConfig {
  std::filesystem::path agent_binary;
  std::filesystem::path data_dir;   // state directories: <data-dir>/agents/<pool>/<node>
  std::filesystem::path nodes_dir;  // node roots: <nodes-dir>/<pool>/<node>
  mode_t agent_umask = 022;
  std::string scheduler_url;
  std::vector<std::string> extra_args;  // appended to every agent's command line
  std::chrono::milliseconds restart_backoff{1000};
  std::chrono::milliseconds stop_grace{10000};
};

class LocalAgents {
 public:
  explicit LocalAgents(LocalAgentsConfig config);
  ~LocalAgents();

  std::filesystem::path root_dir(const std::string& pool_id, const std::string& node_id) const;
  std::filesystem::path state_dir(const std::string& pool_id, const std::string& node_id) const;

  // True when the node's state directory holds its identity (node.json).
  bool has_identity(const std::string& pool_id, const std::string& node_id) const;
  // Writes node.json (mode 0600, atomically) so the agent links without joining.
  bool write_identity(const std::string& pool_id, const std::string& node_id,
                      const std::string& token);

  // Makes sure the node's agent runs: adopts a live one, else starts one.
  void ensure(const std::string& pool_id, const std::string& node_id);
  // Stops the node's agent (SIGTERM, SIGKILL after the grace) and, once it is gone, removes
  // its directories when `remove_dirs`.
  void stop(const std::string& pool_id, const std::string& node_id, bool remove_dirs);
  // Reaps and restarts: agents that died and are still wanted start again after the back-off;
  // stopping agents past their grace get SIGKILL.
  void poll();
  // Stops every agent and waits (bounded by the grace) for them to exit.
  void stop_all();

  std::size_t running() const { return agents_.size(); }

 private:
  struct Agent {
    std::string pool_id;
    std::string node_id;
    pid_t pid = -1;
    bool child = false;  // ours to waitpid; false when adopted
    bool stopping = false;
    bool remove_dirs = false;
    bool respawn = false;  // stopping only to start again (it points at an old scheduler URL)
    std::chrono::steady_clock::time_point stop_sent{};
    std::chrono::steady_clock::time_point started{};
    std::chrono::steady_clock::time_point restart_at{};  // dead and wanted: start at
  };

  bool alive(Agent& agent);
  // The pid of a live agent of this node left by an earlier scheduler, or -1. `current` says
  // whether it talks to this scheduler's URL and uses this node root.
  pid_t find_running(const std::string& pool_id, const std::string& node_id, bool& current) const;
  pid_t spawn(const std::string& pool_id, const std::string& node_id);
  void remove_dirs(const Agent& agent) const;

  LocalAgentsConfig config_;
  std::map<std::string, Agent> agents_;  // by node id
};

}  // namespace openbatch::provision
