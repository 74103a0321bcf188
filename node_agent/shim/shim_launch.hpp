// The agent's side of task shims (shim_main.hpp): where each attempt's shim keeps its state,
// and starting a task under one.
//
// <state-dir>/shims/                 0700, root: the agent's private state
//   <attempt, escaped>/              0700, one per running attempt
//     status                         the shim's (shim_status.hpp)
//     attempt.json                   the agent's: what a restarted agent needs to take the
//                                    attempt over (its assignment, kind, leased user)
// The directory goes when the attempt's completed report is durable in the journal: until
// then a restarted agent may still need the status.
// Thread-safe: no state.
#pragma once

#include "common/error.hpp"
#include "common/posix/unique_fd.hpp"
#include "node_agent/exec/launcher.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace openbatch::agent::shim {

inline constexpr const char* kShimsDir = "shims";
inline constexpr const char* kAttemptFile = "attempt.json";
// The default cap on each of a task's stdout.txt and stderr.txt.
inline constexpr std::uint64_t kDefaultMaxTaskOutput = 1ull << 30;

struct ShimConfig {
  // openbatch-shim (shim/main.cpp), or with `subcommand` the agent binary's `shim` subcommand.
  std::filesystem::path executable;
  bool subcommand = false;
  std::filesystem::path dir;                               // <state-dir>/shims
  std::uint64_t max_output_bytes = kDefaultMaxTaskOutput;  // 0: no cap
  std::string boot_id;
};

// The directory name of an attempt: letters, digits, '_' and '-' as they are, every other byte
// as %XX (so no name is "." or ".." and none holds '/'); nullopt beyond a file name's length.
std::optional<std::string> escape_attempt_id(std::string_view attempt_id);
std::optional<std::string> unescape_attempt_id(std::string_view name);

// Creates the attempt's directory afresh (0700) and writes attempt.json into it.
[[nodiscard]] Status make_attempt_dir(const std::filesystem::path& dir,
                                      const nlohmann::json& attempt);
[[nodiscard]] Result<nlohmann::json> read_attempt_file(const std::filesystem::path& dir);
void remove_attempt_dir(const std::filesystem::path& dir);

// A shim that is starting its task: the agent reads its answer on `socket` (the shim closes
// its end right after answering), without blocking its event loop (attempt_runner.cpp).
struct StartingShim {
  exec::Child shim;  // the shim's pid; its process group is its own
  posix::UniqueFd socket;
};

// Starts a shim for `spec` that keeps its state in `dir` and sends it the request: the shim
// runs as root in a session of its own, with the spec's outputs as its stdout and stderr, and
// starts the task as the spec says, then answers (read_shim_answer).
[[nodiscard]] Result<StartingShim> spawn_shim(exec::Launcher& launcher,
                                              const exec::LaunchSpec& spec,
                                              const ShimConfig& config,
                                              const std::filesystem::path& dir);
// What the shim wrote before closing its socket -> the task's pid (its process group), or
// the launch Error as PosixLauncher would give it (500 "ShimFailed" when there is no answer).
[[nodiscard]] Result<pid_t> read_shim_answer(std::string_view reply);

}  // namespace openbatch::agent::shim
