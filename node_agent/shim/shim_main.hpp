// `openbatch-agent shim DIR`: the supervisor of one task (as containerd-shim and slurmstepd
// are), so that the task outlives its agent. The agent starts it in a session of its own
// (setsid: outside the agent's process group, no parent-death signal), as root, with
//   stdin   a socket: the ShimRequest comes in, the ShimAnswer goes out (shim_request.hpp)
//   stdout  the task's stdout.txt, stderr its stderr.txt (opened by the agent)
// It starts the task exactly as the agent would (PosixLauncher: identity, rlimits, cwd, its
// own session), writes DIR/status (running, then exited with the wait status: shim_status.hpp),
// answers, and waits for the task. Meanwhile it enforces the output cap: when stdout or stderr
// grows past max_output_bytes (watched with inotify, and every second besides), the task's
// process group gets SIGKILL and the status records which file hit which cap.
// When the task is gone it exits the way the task did (its exit code, or its signal), so the
// agent that started it sees the same wait status; a restarted agent reads DIR/status instead.
//
// SIGTERM, SIGINT, SIGHUP and SIGPIPE are ignored: stopping a task is the agent's business
// (it signals the task's group); the shim stays until the task has ended and its status is
// written.
#pragma once

namespace openbatch::agent::shim {

int shim_main(int argc, char** argv);

}  // namespace openbatch::agent::shim
