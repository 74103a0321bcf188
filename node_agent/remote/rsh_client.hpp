// `openbatch-agent rsh HOST CMD...`: the launcher mpirun uses instead of ssh
// (OMPI_MCA_plm_rsh_agent="<abs path to openbatch-agent> rsh"). It asks the agent of the peer
// node HOST to run CMD for the current multi-instance task (exec_server.hpp; wire format in
// rsh_wire.hpp), copies the remote stdout and stderr to its own as they arrive, and exits with
// the remote exit status, as ssh does.
//
// Command line (as OpenMPI's plm_rsh calls ssh): [ssh options] HOST [ssh options] WORD...
//   ssh options are accepted and ignored: flags (-x -n -T -t -q -v -A -a -C -4 -6 ..., also
//   grouped as -xT) and options with a value (-o X, -p N, -l USER, -i FILE, -F FILE, ...; the
//   value attached or as the next word); `--` ends them. As with OpenSSH they may also follow
//   HOST, up to the first command word. HOST may be USER@HOST (USER is ignored: the command
//   runs as the task's user). At least one command word must follow.
// Environment (the task's; the agent sets it for multi-instance tasks):
//   OPENBATCH_RSH_PEERS  comma-separated NAME=IP:PORT entries, NAME an IP address or a host
//                        name (several names may share an endpoint), e.g.
//                        "10.1.0.5=10.1.0.5:7079,node-1=10.1.0.5:7079"; IPv6 as [addr]:port.
//                        A HOST that is no NAME but equals an endpoint's IP uses that endpoint.
//   OPENBATCH_RSH_TOKEN  the task's remote-exec token
//   AZ_BATCH_JOB_ID, AZ_BATCH_TASK_ID
// stdin is not forwarded (mpirun's orted never reads it); the remote side sees /dev/null.
//
// Exit status: the remote command's (128 + signal when a signal ended it); 255 (ssh's
// convention) when the command could not run here or there: bad usage, unknown HOST, missing
// environment, connection failure or timeout (10 s), a refusal by the peer, or a connection
// lost before the exit status. Every such failure is one line on stderr, starting
// "openbatch-agent rsh: ".
//
// Plain blocking sockets, retrying on EINTR. Thread-safety: run_rsh may run on any thread;
// it touches no global state (the signal disposition is rsh_main's business).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace openbatch::agent::remote {

inline constexpr int kRshFailed = 255;

// Where the output goes (tests pass files; the subcommand uses 1 and 2).
struct RshIo {
  int stdout_fd = 1;
  int stderr_fd = 2;
  std::chrono::milliseconds connect_timeout{10000};
};

// `args` are the words after "rsh"; `env` the environment (NAME -> value) to read the
// variables above from. Returns the exit status described above.
int run_rsh(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const RshIo& io = {});

// The subcommand: ignores SIGPIPE (as ssh does: a closed stdout must not kill the launcher),
// reads the process environment and calls run_rsh with argv[0..argc).
int rsh_main(int argc, char** argv);

}  // namespace openbatch::agent::remote
