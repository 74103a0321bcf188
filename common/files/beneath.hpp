// Beneath: file operations on a path relative to a directory descriptor that never leave that
// directory and never follow a symlink in any component. Every root operation on a tree a task
// can write to (task directories, the node file API, output files, downloads) goes through
// here, because a task can swap any entry it owns for a symlink between a check and a use.
//
// Resolution is openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) where
// the kernel has it (5.6+); otherwise (ENOSYS, or a seccomp filter answering EPERM) a walk
// that opens each directory with O_PATH | O_DIRECTORY | O_NOFOLLOW relative to the last one.
// Either way the kernel resolves one component at a time against a descriptor we hold, so no
// rename elsewhere can redirect it.
//
// Paths: '/'-separated, relative; empty components and "." are skipped, so "" names the
// directory itself. An absolute path or any ".." component is refused (EXDEV), a symlink in
// any component is refused (ELOOP). Errors are errno values; 0 means success.
//
// Thread-safe: no shared state besides the once-computed openat2 probe.
#pragma once

#include "common/posix/unique_fd.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/types.h>

namespace openbatch::files {

// A descriptor, or the errno that kept it from opening.
struct FdResult {
  posix::UniqueFd fd;
  int err = 0;
  explicit operator bool() const { return err == 0; }
};

// The directory holding a path's last component, and that component (empty for "").
struct ParentResult {
  posix::UniqueFd dir;
  std::string name;
  int err = 0;
  explicit operator bool() const { return err == 0; }
};

// True when this kernel resolves with openat2 (probed once).
bool openat2_available();

// Opens a directory the caller trusts by its path (a node root, a task directory whose
// parents only root can write): O_PATH | O_DIRECTORY, following symlinks in the path.
FdResult open_trusted_dir(const std::filesystem::path& dir);

// openat(dirfd, rel, flags, mode) resolved beneath dirfd with no symlink anywhere. An O_PATH
// open of a symlink is refused too.
FdResult open_beneath(int dirfd, std::string_view rel, int flags, mode_t mode = 0);
// The same through the component walk only; for tests of the fallback.
FdResult open_beneath_walk(int dirfd, std::string_view rel, int flags, mode_t mode = 0);

// The parent directory of rel (opened O_PATH) and rel's last component. "" is EINVAL.
ParentResult open_parent_beneath(int dirfd, std::string_view rel);

// lstat of rel (a symlink as the last component is described, not followed).
int stat_beneath(int dirfd, std::string_view rel, struct stat& out);
int mkdir_beneath(int dirfd, std::string_view rel, mode_t mode);
// Removes a file or symlink (unlink) / an empty directory (rmdir).
int unlink_beneath(int dirfd, std::string_view rel);
int rmdir_beneath(int dirfd, std::string_view rel);
// Removes rel and, for a directory, everything under it, walking with descriptors: a symlink
// met anywhere is removed itself, never followed. ENOENT when rel does not exist.
int remove_tree_beneath(int dirfd, std::string_view rel);
// The same for the entry `name` directly in `dirfd`.
int remove_tree_at(int dirfd, const std::string& name);
// The same for `path`, whose parent is trusted (a node root a task may have filled).
int remove_tree(const std::filesystem::path& path);
// chown / chmod of rel itself; a symlink is refused (ELOOP), never followed.
int chown_beneath(int dirfd, std::string_view rel, uid_t uid, gid_t gid);
int chmod_beneath(int dirfd, std::string_view rel, mode_t mode);
int rename_beneath(int dirfd, std::string_view from, std::string_view to);

// Opens (and with O_CREAT creates) the regular file `file` for writing by root on behalf of a
// task: its directory is opened as trusted, the file beneath it with O_NOFOLLOW; anything but
// a regular file with one link (a FIFO, a device, a hard link to another file) is refused
// (EPERM) before a byte is written or an owner changed. `flags` must include an access mode.
FdResult open_regular_file(const std::filesystem::path& file, int flags, mode_t mode);
// The same relative to a directory descriptor.
FdResult open_regular_beneath(int dirfd, std::string_view rel, int flags, mode_t mode);

}  // namespace openbatch::files
