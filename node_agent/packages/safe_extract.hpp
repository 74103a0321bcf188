// extract_archive: unpacks an application package (a .zip, or a tar, optionally gzip/bzip2/xz
// compressed) into a folder, refusing anything that could write outside it or fill the disk.
//
// The package comes from the scheduler and was uploaded by a user, so every entry is untrusted.
// The whole package is refused, with an Error naming the entry, when an entry has an absolute
// path or a ".." component, passes through a symbolic link made earlier in the archive, is a
// hard link (refused outright: zip has none, and a tar's hard links are rare in packages), a
// device, a fifo or a socket, appears twice, or is a symbolic link whose target is absolute,
// leaves the package folder, or uses ".." after a folder name ("a/../.." cannot be judged
// without following links, so it is not accepted at all). Limits (ExtractLimits) count the
// bytes actually written, never the sizes the headers announce: that is the zip-bomb guard.
//
// Modes: folders are 0755; files are 0444, plus 0111 when any execute bit is set in the
// archive, plus 0200 when the archive gives the owner write. setuid, setgid, sticky and
// group/other write never survive. Files belong to the extracting user (root in the agent):
// a non-admin task can read and run a package but never change it.
//
// Atomicity: entries go to a fresh "<destination>.tmp-XXXXXX" folder next to `destination`
// (mode 0700 until complete); files and folders are fsynced; then the folder is renamed onto
// `destination`. An existing destination is swapped out with renameat2(RENAME_EXCHANGE), a
// single atomic step, and then deleted; on file systems without it, the old folder is renamed
// aside first, which leaves a short window with no destination. On any Error the temporary
// folder is removed and nothing else was touched. The parent of `destination` must exist.
//
// Blocking (file I/O); thread-safe for distinct destinations. Callers serialize installs of
// the same destination (PackageInstaller holds a lock file).
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace openbatch::agent::packages {

inline constexpr std::string_view kPackageExtractionFailed = "PackageExtractionFailed";

struct ExtractLimits {
  std::uint64_t max_entries = 100000;           // entries of any kind, folders included
  std::uint64_t max_total_bytes = 16ull << 30;  // file bytes written, all entries together
  std::uint64_t max_entry_bytes = 8ull << 30;   // file bytes written for one entry
  // Bytes written per byte of archive file. Checked only once more than ratio_floor_bytes
  // were written: small packages of text legitimately compress very well, and a bomb only
  // matters once it is large.
  std::uint64_t max_ratio = 200;
  std::uint64_t ratio_floor_bytes = 16ull << 20;
};

struct ExtractStats {
  std::uint64_t entries = 0;  // every entry read
  std::uint64_t files = 0;
  std::uint64_t directories = 0;  // folder entries of the archive (implied folders not counted)
  std::uint64_t symlinks = 0;
  std::uint64_t bytes = 0;  // file bytes written
};

// Extracts `archive` into `destination` (replacing it when it exists). Errors are
// 400 kPackageExtractionFailed, e.g. "zip entry '../evil.sh': path escapes the package folder".
[[nodiscard]] Result<ExtractStats> extract_archive(const std::filesystem::path& archive,
                                                   const std::filesystem::path& destination,
                                                   const ExtractLimits& limits);

}  // namespace openbatch::agent::packages
