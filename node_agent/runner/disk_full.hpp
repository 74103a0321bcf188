// A task that fills its node's disk fails with DiskFull, not the agent: when an attempt ends
// in failure (a nonzero exit, or it could not be prepared) and the filesystem holding the
// node root is full, its failureInfo says so -- category UserError, code DiskFull, a message
// naming the filesystem and its free space -- instead of a bare FailureExitCode.
//
// "Full" is less than total/32 free, within [1 MiB, 64 MiB]: a process sees ENOSPC at zero,
// but by the time the agent looks, a scheduler on the same filesystem may have released its
// own reserve (at most total/64: scheduler/store/disk_space.hpp), which must not hide it.
#pragma once

#include "common/protocol/agent_protocol.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace openbatch::agent::runner {

inline constexpr const char* kDiskFull = "DiskFull";

struct FilesystemSpace {
  std::uint64_t total = 0;
  std::uint64_t available = 0;  // for an unprivileged writer (f_bavail)
};

// Pure.
bool filesystem_full(const FilesystemSpace& space);
protocol::FailureInfo disk_full_failure(const std::filesystem::path& where,
                                        const FilesystemSpace& space, const std::string& cause);
// Turns a failed report into a DiskFull one when `space` (of `where`) is full; a success,
// a cancel or a timeout stays what it is.
void classify_disk_full(protocol::Report& report, const std::filesystem::path& where,
                        const std::optional<FilesystemSpace>& space);

// statvfs of `path`; nullopt when it fails.
std::optional<FilesystemSpace> filesystem_space(const std::filesystem::path& path);

}  // namespace openbatch::agent::runner
