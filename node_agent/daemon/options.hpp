// AgentOptions: the `openbatch-agent run` command line as a value, and run_agent(), which
// turns it into a running agent: check the directories, discover the hardware, join once
// (or load node.json), recover the journal, prepare the node tree and the task user, then
// run the event loop until shutdown.
//
// Exit codes: 0 after a graceful shutdown; 2 bad options or directories; 3 the scheduler
// refused the join (bad token or pool: waiting will not help); 4 the journal or node.json
// cannot be read or written.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace openbatch::agent::daemon {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitJoinRefused = 3;
inline constexpr int kExitStateFailed = 4;

struct DiscoveryFlags {
  std::filesystem::path sysfs_root = "/sys";
  std::filesystem::path proc_root = "/proc";
  std::filesystem::path gpu_inventory;
  std::string hostname;  // overrides the discovered one when set
};

struct AgentOptions {
  std::string scheduler;                  // --scheduler http://host:port
  std::filesystem::path root;             // --root: AZ_BATCH_NODE_ROOT_DIR
  std::filesystem::path state_dir;        // --state-dir: node.json, journal; never under --root
  std::string pool;                       // --pool: for the first join
  std::filesystem::path join_token_file;  // --join-token-file: for the first join
  DiscoveryFlags discovery;
  std::string task_user = "_azbatch";  // --task-user
  int kill_grace_seconds = 5;          // --kill-grace-seconds
  std::string log_level = "info";      // --log-level
  int reconnect_min_ms = 1000;         // --reconnect-min-ms (tests)
  int reconnect_max_ms = 60000;        // --reconnect-max-ms
  // --exec-listen auto[:PORT] | ADDRESS[:PORT] | off: the remote-launch server of
  // multi-instance tasks (mpirun's `openbatch-agent rsh`, remote/exec_listen.hpp). It runs
  // only on pools with inter-node communication; auto listens on the node's address as the
  // scheduler knows it; port 0 = any free one; "off" = none.
  std::string exec_listen = "auto";
  // --max-task-output BYTES: the cap on each of a task's stdout.txt and stderr.txt (0: none).
  std::uint64_t max_task_output = 1ull << 30;
  // --task-shims on|off: tasks run under shims that outlive the agent (shim/shim_main.hpp);
  // off starts them directly (cheaper per task; an agent restart then stops and requeues them,
  // and the output cap is not enforced).
  bool task_shims = true;
  // --shim-path FILE: the openbatch-shim program; empty: the one beside this agent's binary.
  std::filesystem::path shim_path;
};

int run_agent(const AgentOptions& options);

// `openbatch-agent discover`: prints the inventory JSON; 0, or 1 when discovery fails.
int print_inventory(const DiscoveryFlags& flags);

// The command line: `run` and `discover` subcommands (CLI11), and `rsh` (remote/rsh_client.hpp).
int agent_main(int argc, char** argv);

}  // namespace openbatch::agent::daemon
