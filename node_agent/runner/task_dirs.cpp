// make_task_dir: mkdir with the final mode, parents only on ENOENT (see task_dirs.hpp).
#include "node_agent/runner/task_dirs.hpp"

#include "common/posix/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>
#include <system_error>

namespace openbatch::agent::runner {
namespace {

// Private to the task's user: another task (another user) can neither list nor read it. The
// agent (root) still serves its files.
constexpr mode_t kTaskDirMode = 0700;

Error preparation_failed(const std::string& what, int err) {
  return Error(500, "TaskPreparationFailed", what + ": " + posix::errno_text(err));
}

// True when mkdir(kTaskDirMode) yields exactly kTaskDirMode. The umask comes from
// /proc/self/status: umask(2) can only read it by changing it, under the other threads' feet.
// Unknown (no /proc): false, so the chmod is kept.
bool umask_keeps_task_dir_mode() {
  static const bool keeps = [] {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.starts_with("Umask:")) continue;
      const mode_t mask = static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8));
      return (mask & kTaskDirMode) == 0;
    }
    return false;
  }();
  return keeps;
}

Status own(const std::filesystem::path& dir, const FileOwner& owner) {
  if (::chown(dir.c_str(), owner.uid, owner.gid) != 0) {
    return preparation_failed("chown " + dir.string(), errno);
  }
  return {};
}

// An existing directory: fix mode and owner where they differ.
Status adopt(const std::filesystem::path& dir, const std::optional<FileOwner>& owner) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return preparation_failed("stat " + dir.string(), errno);
  if (!S_ISDIR(st.st_mode)) return preparation_failed("creating " + dir.string(), ENOTDIR);
  if ((st.st_mode & 07777) != kTaskDirMode && ::chmod(dir.c_str(), kTaskDirMode) != 0) {
    return preparation_failed("chmod " + dir.string(), errno);
  }
  if (owner && (st.st_uid != owner->uid || st.st_gid != owner->gid)) return own(dir, *owner);
  return {};
}

}  // namespace

Status make_task_dir(const std::filesystem::path& dir, const std::optional<FileOwner>& owner) {
  int err = ::mkdir(dir.c_str(), kTaskDirMode) == 0 ? 0 : errno;
  if (err == ENOENT) {  // the job's (or the parent task's) directories are missing
    std::error_code ec;
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) {
      return Error(500, "TaskPreparationFailed",
                   "creating " + dir.parent_path().string() + ": " + ec.message());
    }
    err = ::mkdir(dir.c_str(), kTaskDirMode) == 0 ? 0 : errno;
  }
  if (err == EEXIST) return adopt(dir, owner);
  if (err != 0) return preparation_failed("mkdir " + dir.string(), err);
  if (!umask_keeps_task_dir_mode() && ::chmod(dir.c_str(), kTaskDirMode) != 0) {
    return preparation_failed("chmod " + dir.string(), errno);
  }
  return owner ? own(dir, *owner) : Status{};
}

Status write_task_file(const std::filesystem::path& file, std::string_view text,
                       const std::optional<FileOwner>& owner) {
  posix::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (fd.get() < 0) return preparation_failed("open " + file.string(), errno);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return preparation_failed("write " + file.string(), errno);
    done += static_cast<std::size_t>(n);
  }
  if (owner && ::fchown(fd.get(), owner->uid, owner->gid) != 0) {
    return preparation_failed("chown " + file.string(), errno);
  }
  return {};
}

}  // namespace openbatch::agent::runner
