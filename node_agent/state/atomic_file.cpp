// Durable file helpers (see atomic_file.hpp).
#include "node_agent/state/atomic_file.hpp"

#include "common/posix/unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace openbatch::agent::state {

Error state_write_error(std::string_view what, const std::filesystem::path& path, int err) {
  return Error(500, "StateWriteFailed",
               std::string(what) + " " + path.string() + ": " + posix::errno_text(err));
}

Status write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return state_write_error("write", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Status fsync_directory(const std::filesystem::path& dir) {
  posix::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return state_write_error("open", dir, errno);
  if (::fsync(fd.get()) != 0) return state_write_error("fsync", dir, errno);
  return {};
}

Status write_file_atomically(const std::filesystem::path& path, std::string_view content,
                             mode_t mode) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    posix::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (fd.get() < 0) return state_write_error("create", tmp, errno);
    if (::fchmod(fd.get(), mode) != 0) return state_write_error("chmod", tmp, errno);
    if (auto st = write_all(fd.get(), content, tmp); !st) {
      ::unlink(tmp.c_str());  // a partial copy (a full disk) must not keep its blocks
      return st;
    }
    if (::fsync(fd.get()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      return state_write_error("fsync", tmp, err);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return state_write_error("rename", tmp, errno);
  return fsync_directory(path.has_parent_path() ? path.parent_path() : ".");
}

}  // namespace openbatch::agent::state
