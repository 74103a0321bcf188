// Disk space thresholds, decisions and the disk-space error (see disk_space.hpp).
#include "scheduler/store/disk_space.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace openbatch::store {
namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;
constexpr std::uint64_t kGiB = 1024 * kMiB;

}  // namespace

DiskThresholds thresholds_for(std::uint64_t total) {
  DiskThresholds t;
  t.reserve = std::clamp<std::uint64_t>(total / 64, 256 * kKiB, 32 * kMiB);
  t.low = std::clamp<std::uint64_t>(2 * t.reserve + total / 32, 1 * kMiB, 1 * kGiB);
  t.critical = t.reserve / 2;
  return t;
}

DiskDecision decide(const DiskSpace& space, const DiskState& now) {
  const DiskThresholds t = thresholds_for(space.total);
  DiskDecision d;
  d.next = now;
  if (now.reserve_held && space.available < t.critical) {
    d.release_reserve = true;
    d.next.reserve_held = false;
  }
  if (space.available < t.low) {
    d.next.low = true;
  } else if (now.low) {
    // Leave low only with room for the reserve too, so recreating it keeps us out of low.
    d.next.low = space.available < t.low + t.reserve;
  }
  if (!d.next.reserve_held && !d.release_reserve && space.available >= t.low + t.reserve) {
    d.create_reserve = true;
    d.next.reserve_held = true;
  }
  return d;
}

bool is_disk_full(int extended_code, int system_errno) {
  const int primary = extended_code & 0xff;
  if (primary == SQLITE_FULL) return true;
  return primary == SQLITE_IOERR && (system_errno == ENOSPC || system_errno == EDQUOT);
}

std::string format_bytes(std::uint64_t bytes) {
  char text[32];
  if (bytes >= kGiB) {
    std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / kGiB);
  } else if (bytes >= kMiB) {
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / kMiB);
  } else if (bytes >= kKiB) {
    std::snprintf(text, sizeof text, "%.1f KiB", static_cast<double>(bytes) / kKiB);
  } else {
    std::snprintf(text, sizeof text, "%llu bytes", static_cast<unsigned long long>(bytes));
  }
  return text;
}

Error insufficient_disk_space(const DiskSpace& space) {
  std::string message =
      "The server is low on disk space for its data directory and refused the write";
  if (space.total > 0) {
    message += " (" + format_bytes(space.available) + " free of " + format_bytes(space.total) + ")";
  }
  message +=
      ". Free space by deleting jobs, tasks or task files; deletes and terminates still work.";
  return Error(507, std::string(kInsufficientDiskSpace), message, {{"Reason", "DiskSpaceLow"}});
}

bool is_insufficient_disk_space(const Error& error) { return error.code == kInsufficientDiskSpace; }

}  // namespace openbatch::store
