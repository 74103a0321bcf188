// Disk space decisions for the data directory's filesystem. Pure: the numbers come from
// statvfs (DiskGuard) and the SQLite error codes from a failed statement.
//
// Why: SQLite needs free blocks for every commit (WAL frames) and for its checkpoints. If a
// task fills the filesystem the database shares, every write fails, including the deletes and
// the completion reports that would free space again. So the scheduler
//   - refuses writes that grow the state (adds, creates, updates, uploads) once free space is
//     LOW, with 507 InsufficientDiskSpace -- before SQLite runs out;
//   - keeps a RESERVE file in the data directory that it releases when SQLite reports the disk
//     full (or free space is CRITICAL), so deletes, terminates and completions still commit;
//   - recreates the reserve and accepts writes again once space has come back.
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace openbatch::store {

inline constexpr std::string_view kInsufficientDiskSpace = "InsufficientDiskSpace";

// What statvfs says about one filesystem, in bytes; `available` is what an unprivileged
// writer may still use (f_bavail), the reserve file not counted.
struct DiskSpace {
  std::uint64_t total = 0;
  std::uint64_t available = 0;
};

// Sizes scale with the filesystem, so a 20 MiB test filesystem and a 2 TB disk both work:
// reserve = total/64 in [256 KiB, 32 MiB]; low = 2 * reserve + total/32 in [1 MiB, 1 GiB]
// above the reserve; critical = reserve / 2.
struct DiskThresholds {
  std::uint64_t reserve = 0;   // size of the reserve file
  std::uint64_t low = 0;       // below this (without the reserve): growth writes are refused
  std::uint64_t critical = 0;  // below this: the reserve is released
};
DiskThresholds thresholds_for(std::uint64_t total);

// The guard's state after one look at the filesystem.
struct DiskState {
  bool low = false;           // growth writes are refused
  bool reserve_held = false;  // the reserve file exists (its bytes are not in `available`)
};

// What to do after a look: `next` is the new state; release/create say what happens to the
// reserve file. Low is left only once available space is back above low + reserve (so
// recreating the reserve does not make it low again at once: hysteresis).
struct DiskDecision {
  DiskState next;
  bool release_reserve = false;
  bool create_reserve = false;
};
DiskDecision decide(const DiskSpace& space, const DiskState& now);

// True when a SQLite failure means "no space left": SQLITE_FULL, or an I/O error whose
// errno is ENOSPC/EDQUOT. `extended_code` is sqlite3_extended_errcode, `system_errno`
// sqlite3_system_errno.
bool is_disk_full(int extended_code, int system_errno);

// The Azure-shaped error for both the refusal and a write that hit a full disk: 507
// InsufficientDiskSpace. 507 rather than 503 ServerBusy because Azure SDKs and az retry 503
// for minutes; a full disk needs a person (delete jobs or task files), not a retry loop.
// `space` may be empty (total 0) when unknown.
Error insufficient_disk_space(const DiskSpace& space);
bool is_insufficient_disk_space(const Error& error);

// "12.5 MiB": bytes in the largest binary unit that keeps the number >= 1.
std::string format_bytes(std::uint64_t bytes);

}  // namespace openbatch::store
