// The conversation between the agent and a task's shim (shim_main.hpp), over the socket that
// is the shim's stdin: the agent sends one ShimRequest and closes its writing side; the shim
// starts the task and answers one ShimAnswer (the task's pid, or why it could not start).
//
// The task's environment travels here, never in the shim's own environment: the shim runs as
// root, and a task's LD_PRELOAD must not reach a root process's loader.
// Pure; thread-safe.
#pragma once

#include "common/error.hpp"
#include "node_agent/exec/launch_spec.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace openbatch::agent::shim {

// Requests are bounded (a task's environment and command line fit easily).
inline constexpr std::size_t kMaxRequestBytes = 16u << 20;

struct ShimRequest {
  // What to start. Its argv, env, cwd, identity and rlimits are used; its outputs are not:
  // the task writes to the shim's own stdout and stderr (the agent opened them).
  exec::LaunchSpec spec;
  // Each of stdout and stderr may grow to this many bytes; 0: no cap.
  std::uint64_t max_output_bytes = 0;
  std::string stdout_name = "stdout.txt";  // for the failure message
  std::string stderr_name = "stderr.txt";
  std::string boot_id;
};

std::string encode_request(const ShimRequest& request);
// 400 "InvalidShimRequest" for anything else.
[[nodiscard]] Result<ShimRequest> decode_request(std::string_view text);

// The shim's answer: the task's pid, or the launch Error (its status, code, message and
// details, as PosixLauncher::launch returned it).
struct ShimAnswer {
  pid_t task_pid = 0;
  std::optional<Error> error;
};

std::string encode_answer(const ShimAnswer& answer);
[[nodiscard]] Result<ShimAnswer> decode_answer(std::string_view text);

}  // namespace openbatch::agent::shim
