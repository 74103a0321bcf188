// DiskFull classification of failed attempts (see disk_full.hpp).
#include "node_agent/runner/disk_full.hpp"

#include <algorithm>
#include <cstdio>
#include <sys/statvfs.h>

namespace openbatch::agent::runner {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

std::string mib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / kMiB);
  return text;
}

// Codes a full disk may have caused: a plain failing exit, or a failed preparation.
bool may_be_disk_full(const std::string& code) {
  return code == "FailureExitCode" || code == "TaskPreparationFailed" ||
         code == "StateWriteFailed" || code == "CommandLaunchFailed" ||
         code == "ResourceFileDownloadFailed" || code == "ApplicationPackageInstallationFailed" ||
         code == "InternalError";
}

}  // namespace

bool filesystem_full(const FilesystemSpace& space) {
  const std::uint64_t threshold = std::clamp<std::uint64_t>(space.total / 32, 1 * kMiB, 64 * kMiB);
  return space.total > 0 && space.available < threshold;
}

protocol::FailureInfo disk_full_failure(const std::filesystem::path& where,
                                        const FilesystemSpace& space, const std::string& cause) {
  std::string message = "The node's disk is full: the filesystem holding " + where.string() +
                        " has " + mib(space.available) + " free of " + mib(space.total) +
                        ". The task most likely filled it (its output or files); " + cause;
  return {protocol::ErrorCategory::UserError, kDiskFull, std::move(message)};
}

void classify_disk_full(protocol::Report& report, const std::filesystem::path& where,
                        const std::optional<FilesystemSpace>& space) {
  if (!space || !report.failure_info || !filesystem_full(*space)) return;
  if (!may_be_disk_full(report.failure_info->code)) return;
  report.failure_info =
      disk_full_failure(where, *space, "it ended with: " + report.failure_info->message);
  report.result = protocol::TaskResult::Failure;
}

std::optional<FilesystemSpace> filesystem_space(const std::filesystem::path& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) return std::nullopt;
  return FilesystemSpace{static_cast<std::uint64_t>(s.f_blocks) * s.f_frsize,
                         static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize};
}

}  // namespace openbatch::agent::runner
