// The openbatch-agent command line (see options.hpp): CLI11 parsing only.
#include "node_agent/daemon/options.hpp"
#include "node_agent/remote/rsh_client.hpp"
#include "node_agent/shim/shim_main.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <string_view>

namespace openbatch::agent::daemon {
namespace {

void add_discovery_flags(CLI::App& cmd, DiscoveryFlags& f) {
  cmd.add_option("--sysfs-root", f.sysfs_root, "sysfs root (fixtures in tests)");
  cmd.add_option("--proc-root", f.proc_root, "procfs root for cpu/memory (fixtures in tests)");
  cmd.add_option("--gpu-inventory", f.gpu_inventory, "GPU inventory JSON file instead of NVML");
  cmd.add_option("--hostname", f.hostname, "host name to report instead of gethostname()");
}

}  // namespace

int agent_main(int argc, char** argv) {
  // `rsh` takes arbitrary words (ssh's command line, options included): parsed by itself.
  if (argc >= 2 && std::string_view(argv[1]) == "rsh") {
    return remote::rsh_main(argc - 2, argv + 2);
  }
  // The per-task supervisor the agent starts itself (shim/shim_main.hpp); not for people.
  if (argc >= 2 && std::string_view(argv[1]) == "shim") {
    return shim::shim_main(argc - 2, argv + 2);
  }
  CLI::App app("openbatch-agent: the OpenBatch node agent", "openbatch-agent");
  app.require_subcommand(1);
  app.add_subcommand("rsh",
                     "rsh [ssh options] HOST COMMAND...: run COMMAND on a node of this "
                     "multi-instance task (mpirun's OMPI_MCA_plm_rsh_agent)")
      ->prefix_command();  // listed in --help only; handled above
  AgentOptions o;
  CLI::App* run = app.add_subcommand("run", "join the pool (once) and run its tasks");
  run->add_option("--scheduler", o.scheduler, "scheduler base URL, http://host:port")->required();
  run->add_option("--root", o.root, "node root directory (AZ_BATCH_NODE_ROOT_DIR)")->required();
  run->add_option("--state-dir", o.state_dir, "agent state (node.json, journal), not under --root")
      ->required();
  run->add_option("--pool", o.pool, "pool to join when <state-dir>/node.json is missing");
  run->add_option("--join-token-file", o.join_token_file,
                  "file (mode 0600) holding the pool's join token");
  add_discovery_flags(*run, o.discovery);
  run->add_option("--task-user", o.task_user, "OS user of nonadmin tasks")->capture_default_str();
  run->add_option("--kill-grace-seconds", o.kill_grace_seconds,
                  "seconds between SIGTERM and SIGKILL when stopping a task")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
  run->add_option("--log-level", o.log_level, "trace|debug|info|warn|error")->capture_default_str();
  run->add_option("--reconnect-min-ms", o.reconnect_min_ms, "first reconnect delay")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600000));
  run->add_option("--reconnect-max-ms", o.reconnect_max_ms, "longest reconnect delay")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600000));
  run->add_option(
         "--max-task-output", o.max_task_output,
         "bytes each of a task's stdout.txt and stderr.txt may reach before the task is stopped "
         "(0: no cap)")
      ->capture_default_str();
  std::string task_shims = "on";
  run->add_option(
         "--task-shims", task_shims,
         "on: each task runs under a supervisor that survives an agent restart (and enforces "
         "--max-task-output); off: tasks start directly, and an agent restart requeues them")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  run->add_option(
      "--shim-path", o.shim_path,
      "the openbatch-shim program tasks run under (default: the one beside openbatch-agent)");
  run->add_option("--exec-listen", o.exec_listen,
                  "auto[:PORT], ADDRESS[:PORT] or off: the remote-launch server for MPI tasks, on "
                  "inter-node pools only (auto: the node's pool address; port 0: any)")
      ->capture_default_str();

  DiscoveryFlags discover_flags;
  CLI::App* discover = app.add_subcommand("discover", "print this node's inventory as JSON");
  add_discovery_flags(*discover, discover_flags);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  o.task_shims = task_shims == "on";
  spdlog::set_level(spdlog::level::from_str(o.log_level));
  if (discover->parsed()) {
    spdlog::set_level(spdlog::level::err);  // stdout is the JSON; warnings stay quiet
    return print_inventory(discover_flags);
  }
  return run_agent(o);
}

}  // namespace openbatch::agent::daemon
