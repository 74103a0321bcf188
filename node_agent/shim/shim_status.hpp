// ShimStatus: what a task's supervisor (the shim, shim_main.hpp) knows about its task, kept in
// <state-dir>/shims/<attempt>/status (root-only, 0600 in a 0700 directory) so that an agent
// that was killed or upgraded can, once restarted, tell a task still running (adopt it) from
// one that ended meanwhile (report its real exit status, once).
//
// The file is replaced atomically (written beside, then renamed) but not fsync'ed: it only has
// to survive the agent process, not the machine. After a reboot every pid in it is meaningless
// and recovery ignores it (boot_id).
//
// Pure encode/decode; the file helpers do I/O. Thread-safe: no state.
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace openbatch::agent::shim {

inline constexpr const char* kStatusFile = "status";

// The output cap fired: which file, at what cap.
struct OutputLimitHit {
  std::string file;  // "stdout.txt" or "stderr.txt"
  std::uint64_t cap_bytes = 0;
  bool operator==(const OutputLimitHit&) const = default;
};

struct ShimStatus {
  enum class State { Running, Exited };
  State state = State::Running;
  // Who holds the status: the shim's pid and its start time in clock ticks since boot (field
  // 22 of /proc/<pid>/stat), which together tell a live shim from a recycled pid.
  pid_t shim_pid = 0;
  std::uint64_t shim_start_ticks = 0;
  std::string boot_id;
  pid_t task_pid = 0;  // also the task's process group (it runs in a session of its own)
  // Once exited: as a wait status says it.
  int exit_code = -1;  // -1 when a signal ended it
  int signal = 0;
  bool core_dumped = false;
  std::optional<OutputLimitHit> output_limit;
  bool operator==(const ShimStatus&) const = default;

  // The exit code a report carries: the code, or 128 + the signal.
  int report_exit_code() const { return signal != 0 ? 128 + signal : exit_code; }
};

std::string encode_status(const ShimStatus& status);
// 500 "CorruptShimStatus" for anything that is not a status.
[[nodiscard]] Result<ShimStatus> decode_status(std::string_view text);

// The status in `dir`, nullopt when there is none yet; an Error when it cannot be read or
// decoded.
[[nodiscard]] Result<std::optional<ShimStatus>> read_status_file(const std::filesystem::path& dir);
// Replaces the status in `dir` (mode 0600).
[[nodiscard]] Status write_status_file(const std::filesystem::path& dir, const ShimStatus& status);

}  // namespace openbatch::agent::shim
