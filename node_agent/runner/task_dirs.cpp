// Task directories on descriptors: mkdirat with the final mode, parents only when missing
// (see task_dirs.hpp).
#include "node_agent/runner/task_dirs.hpp"

#include "common/files/beneath.hpp"
#include "common/posix/unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace openbatch::agent::runner {
namespace {

// The task directory with a task user: traversable, nothing more. The agent (root) still
// serves its files.
constexpr mode_t kSharedTaskDirMode = 0711;
// Private: the working directory (to its user) and a task directory nobody else runs in.
constexpr mode_t kPrivateDirMode = 0700;

Error preparation_failed(const std::string& what, int err) {
  return Error(500, "TaskPreparationFailed", what + ": " + posix::errno_text(err));
}

// Makes `dir` (or adopts an existing one) with `mode`, owned by `uid`/`gid`.
Status make_dir(const std::filesystem::path& dir, mode_t mode, uid_t uid, gid_t gid) {
  const std::string name = dir.filename().string();
  if (name.empty() || name == "." || name == "..")
    return preparation_failed("creating " + dir.string(), EINVAL);
  // The parent is the agent's (the job's directory, or a multi-instance task's directory made
  // by make_task_dir), so its path is trusted; everything below goes through its descriptor.
  auto parent = files::open_trusted_dir(dir.parent_path());
  if (parent.err == ENOENT) {  // the job's (or the parent task's) directories are missing
    std::error_code ec;
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) {
      return Error(500, "TaskPreparationFailed",
                   "creating " + dir.parent_path().string() + ": " + ec.message());
    }
    parent = files::open_trusted_dir(dir.parent_path());
  }
  if (!parent) return preparation_failed("opening " + dir.parent_path().string(), parent.err);
  if (::mkdirat(parent.fd.get(), name.c_str(), mode) != 0 && errno != EEXIST)
    return preparation_failed("mkdir " + dir.string(), errno);
  auto fd = files::open_beneath(parent.fd.get(), name, O_RDONLY | O_DIRECTORY);
  if (!fd)
    return preparation_failed("creating " + dir.string(), fd.err == ELOOP ? ENOTDIR : fd.err);
  struct stat st {};
  if (::fstat(fd.fd.get(), &st) != 0) return preparation_failed("stat " + dir.string(), errno);
  if ((st.st_mode & 0777) != mode && ::fchmod(fd.fd.get(), (st.st_mode & 07000) | mode) != 0) {
    return preparation_failed("chmod " + dir.string(), errno);
  }
  if ((st.st_uid != uid || st.st_gid != gid) && ::fchown(fd.fd.get(), uid, gid) != 0) {
    return preparation_failed("chown " + dir.string(), errno);
  }
  return {};
}

}  // namespace

Status make_task_dir(const std::filesystem::path& dir, const std::optional<FileOwner>& task_user) {
  return make_dir(dir, task_user ? kSharedTaskDirMode : kPrivateDirMode, ::geteuid(), ::getegid());
}

Status make_working_dir(const std::filesystem::path& dir, const std::optional<FileOwner>& owner) {
  return make_dir(dir, kPrivateDirMode, owner ? owner->uid : ::geteuid(),
                  owner ? owner->gid : ::getegid());
}

Status close_task_dir(const std::filesystem::path& dir) {
  posix::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return preparation_failed("opening " + dir.string(), errno);
  if (::fchown(fd.get(), ::geteuid(), ::getegid()) != 0)
    return preparation_failed("chown " + dir.string(), errno);
  if (::fchmod(fd.get(), kPrivateDirMode) != 0)
    return preparation_failed("chmod " + dir.string(), errno);
  return {};
}

Status write_task_file(const std::filesystem::path& file, std::string_view text,
                       const std::optional<FileOwner>& owner) {
  auto f = files::open_regular_file(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!f) return preparation_failed("open " + file.string(), f.err);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(f.fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return preparation_failed("write " + file.string(), errno);
    done += static_cast<std::size_t>(n);
  }
  if (owner && ::fchown(f.fd.get(), owner->uid, owner->gid) != 0) {
    return preparation_failed("chown " + file.string(), errno);
  }
  return {};
}

}  // namespace openbatch::agent::runner
