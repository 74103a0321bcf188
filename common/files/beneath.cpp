// Beneath: openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or an O_NOFOLLOW walk (see
// beneath.hpp).
#include "common/files/beneath.hpp"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace openbatch::files {
namespace {

using posix::UniqueFd;

// A directory's entries are removed at most this deep; deeper trees fail with ELOOP rather
// than exhausting the stack or the descriptor table.
constexpr int kMaxRemoveDepth = 256;

// openat2 may answer EAGAIN when a concurrent rename could have raced the lookup.
constexpr int kOpenat2Tries = 8;

// Splits rel into its components: EXDEV for an absolute path or a "..".
int split(std::string_view rel, std::vector<std::string_view>& out) {
  if (!rel.empty() && rel.front() == '/') return EXDEV;
  std::size_t start = 0;
  while (start <= rel.size()) {
    std::size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string_view part = rel.substr(start, end - start);
    if (part == "..") return EXDEV;
    if (!part.empty() && part != ".") out.push_back(part);
    start = end + 1;
  }
  return 0;
}

std::string joined(const std::vector<std::string_view>& parts, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

int raw_openat2(int dirfd, const char* path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<__u64>(flags);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (int i = 0; i < kOpenat2Tries; ++i) {
    const long fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno != EAGAIN && errno != EINTR) return -1;
  }
  return -1;
}

// A symlink named `name` in `dirfd` turns the vaguer errors of O_NOFOLLOW into ELOOP.
int link_or(int dirfd, const std::string& name, int err) {
  struct stat st {};
  if ((err == ENOTDIR || err == ELOOP) &&
      ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    return ELOOP;
  }
  return err;
}

// Opens the directory that parts[0..count) name under dirfd, one component at a time.
FdResult walk_dirs(int dirfd, const std::vector<std::string_view>& parts, std::size_t count) {
  FdResult r;
  r.fd = UniqueFd(::fcntl(dirfd, F_DUPFD_CLOEXEC, 3));
  if (r.fd.get() < 0) return {UniqueFd(), errno};
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name(parts[i]);
    UniqueFd next(
        ::openat(r.fd.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) return {UniqueFd(), link_or(r.fd.get(), name, errno)};
    r.fd = std::move(next);
  }
  return r;
}

FdResult walk_open(int dirfd, const std::vector<std::string_view>& parts, int flags, mode_t mode) {
  if (parts.empty()) {
    UniqueFd fd(::openat(dirfd, ".", flags | O_CLOEXEC, mode));
    if (fd.get() < 0) return {UniqueFd(), errno};
    return {std::move(fd), 0};
  }
  auto dir = walk_dirs(dirfd, parts, parts.size() - 1);
  if (!dir) return dir;
  const std::string last(parts.back());
  UniqueFd fd(::openat(dir.fd.get(), last.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode));
  if (fd.get() < 0) return {UniqueFd(), link_or(dir.fd.get(), last, errno)};
  if (flags & O_PATH) {  // O_PATH | O_NOFOLLOW opens the link itself
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return {UniqueFd(), errno};
    if (S_ISLNK(st.st_mode)) return {UniqueFd(), ELOOP};
  }
  return {std::move(fd), 0};
}

int result_of(int rc) { return rc == 0 ? 0 : errno; }

// Removes `name` in `dirfd` and, when it is a directory, its entries first.
int remove_entry(int dirfd, const std::string& name, int depth) {
  for (int tries = 0; tries < 4; ++tries) {
    if (::unlinkat(dirfd, name.c_str(), 0) == 0) return 0;
    if (errno != EISDIR && errno != EPERM) return errno;
    if (depth >= kMaxRemoveDepth) return ELOOP;
    UniqueFd dir(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (dir.get() < 0) {
      if (errno == ELOOP || errno == ENOTDIR) continue;  // swapped for a link or file: unlink that
      return errno;
    }
    // Names first, removals after: readdir need not tolerate a directory changing under it.
    std::vector<std::string> names;
    {
      DIR* d = ::fdopendir(::fcntl(dir.get(), F_DUPFD_CLOEXEC, 3));
      if (d == nullptr) return errno;
      ::rewinddir(d);
      while (dirent* e = ::readdir(d)) {
        const std::string_view n = e->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
      }
      ::closedir(d);
    }
    for (const auto& n : names) {
      if (int err = remove_entry(dir.get(), n, depth + 1); err != 0 && err != ENOENT) return err;
    }
    if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) == 0) return 0;
    if (errno != ENOTEMPTY && errno != ENOTDIR) return errno;
    // Refilled (or swapped) meanwhile: go round again.
  }
  return EBUSY;
}

}  // namespace

bool openat2_available() {
  static const bool available = [] {
    const int fd = raw_openat2(AT_FDCWD, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    return errno != ENOSYS && errno != EPERM;
  }();
  return available;
}

FdResult open_trusted_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return {UniqueFd(), errno};
  return {std::move(fd), 0};
}

FdResult open_beneath_walk(int dirfd, std::string_view rel, int flags, mode_t mode) {
  std::vector<std::string_view> parts;
  if (int err = split(rel, parts)) return {UniqueFd(), err};
  return walk_open(dirfd, parts, flags, mode);
}

FdResult open_beneath(int dirfd, std::string_view rel, int flags, mode_t mode) {
  if (!openat2_available()) return open_beneath_walk(dirfd, rel, flags, mode);
  std::vector<std::string_view> parts;
  if (int err = split(rel, parts)) return {UniqueFd(), err};
  const std::string path = parts.empty() ? std::string(".") : joined(parts, parts.size());
  // Without O_NOFOLLOW an O_PATH open of a link is refused by RESOLVE_NO_SYMLINKS too.
  UniqueFd fd(raw_openat2(dirfd, path.c_str(), (flags & ~O_NOFOLLOW) | O_CLOEXEC, mode));
  if (fd.get() < 0) return {UniqueFd(), errno};
  return {std::move(fd), 0};
}

ParentResult open_parent_beneath(int dirfd, std::string_view rel) {
  std::vector<std::string_view> parts;
  if (int err = split(rel, parts)) return {UniqueFd(), {}, err};
  if (parts.empty()) return {UniqueFd(), {}, EINVAL};
  ParentResult r;
  r.name = std::string(parts.back());
  FdResult dir = parts.size() == 1
                     ? walk_dirs(dirfd, parts, 0)
                     : open_beneath(dirfd, joined(parts, parts.size() - 1), O_PATH | O_DIRECTORY);
  if (!dir) return {UniqueFd(), {}, dir.err};
  r.dir = std::move(dir.fd);
  return r;
}

int stat_beneath(int dirfd, std::string_view rel, struct stat& out) {
  auto parent = open_parent_beneath(dirfd, rel);
  if (parent.err == EINVAL) return result_of(::fstat(dirfd, &out));  // "" is the directory
  if (!parent) return parent.err;
  return result_of(::fstatat(parent.dir.get(), parent.name.c_str(), &out, AT_SYMLINK_NOFOLLOW));
}

int mkdir_beneath(int dirfd, std::string_view rel, mode_t mode) {
  auto parent = open_parent_beneath(dirfd, rel);
  if (!parent) return parent.err;
  return result_of(::mkdirat(parent.dir.get(), parent.name.c_str(), mode));
}

int unlink_beneath(int dirfd, std::string_view rel) {
  auto parent = open_parent_beneath(dirfd, rel);
  if (!parent) return parent.err;
  return result_of(::unlinkat(parent.dir.get(), parent.name.c_str(), 0));
}

int rmdir_beneath(int dirfd, std::string_view rel) {
  auto parent = open_parent_beneath(dirfd, rel);
  if (!parent) return parent.err;
  return result_of(::unlinkat(parent.dir.get(), parent.name.c_str(), AT_REMOVEDIR));
}

int remove_tree_at(int dirfd, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
    return EINVAL;
  return remove_entry(dirfd, name, 0);
}

int remove_tree_beneath(int dirfd, std::string_view rel) {
  auto parent = open_parent_beneath(dirfd, rel);
  if (!parent) return parent.err;
  return remove_tree_at(parent.dir.get(), parent.name);
}

int remove_tree(const std::filesystem::path& path) {
  const std::filesystem::path p = path.lexically_normal();
  const std::filesystem::path name =
      p.filename().empty() ? p.parent_path().filename() : p.filename();
  const std::filesystem::path dir =
      p.filename().empty() ? p.parent_path().parent_path() : p.parent_path();
  auto parent = open_trusted_dir(dir.empty() ? std::filesystem::path(".") : dir);
  if (!parent) return parent.err;
  return remove_tree_at(parent.fd.get(), name.string());
}

int chown_beneath(int dirfd, std::string_view rel, uid_t uid, gid_t gid) {
  auto f = open_beneath(dirfd, rel, O_PATH);
  if (!f) return f.err;
  return result_of(::fchownat(f.fd.get(), "", uid, gid, AT_EMPTY_PATH));
}

int chmod_beneath(int dirfd, std::string_view rel, mode_t mode) {
  // fchmod needs a real descriptor; O_NONBLOCK keeps a FIFO from blocking the open. Only a
  // regular file or a directory is changed.
  auto f = open_beneath(dirfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!f) return f.err;
  struct stat st {};
  if (::fstat(f.fd.get(), &st) != 0) return errno;
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return EPERM;
  return result_of(::fchmod(f.fd.get(), mode));
}

int rename_beneath(int dirfd, std::string_view from, std::string_view to) {
  auto a = open_parent_beneath(dirfd, from);
  if (!a) return a.err;
  auto b = open_parent_beneath(dirfd, to);
  if (!b) return b.err;
  return result_of(::renameat(a.dir.get(), a.name.c_str(), b.dir.get(), b.name.c_str()));
}

FdResult open_regular_beneath(int dirfd, std::string_view rel, int flags, mode_t mode) {
  // O_TRUNC waits for the checks: truncating what turned out to be someone else's file is the
  // very damage this guards against.
  const bool truncate = (flags & O_TRUNC) != 0;
  auto f = open_beneath(dirfd, rel, (flags & ~O_TRUNC) | O_NONBLOCK | O_NOCTTY, mode);
  if (!f) return f;
  struct stat st {};
  if (::fstat(f.fd.get(), &st) != 0) return {UniqueFd(), errno};
  if (!S_ISREG(st.st_mode) || st.st_nlink != 1) return {UniqueFd(), EPERM};
  if (truncate && ::ftruncate(f.fd.get(), 0) != 0) return {UniqueFd(), errno};
  const int fl = ::fcntl(f.fd.get(), F_GETFL);
  if (fl < 0 || ::fcntl(f.fd.get(), F_SETFL, (fl & ~O_NONBLOCK) | (flags & O_NONBLOCK)) != 0) {
    return {UniqueFd(), errno};
  }
  return f;
}

FdResult open_regular_file(const std::filesystem::path& file, int flags, mode_t mode) {
  const std::string name = file.filename().string();
  if (name.empty() || name == "." || name == "..") return {UniqueFd(), EINVAL};
  auto dir =
      open_trusted_dir(file.has_parent_path() ? file.parent_path() : std::filesystem::path("."));
  if (!dir) return dir;
  return open_regular_beneath(dir.fd.get(), name, flags, mode);
}

}  // namespace openbatch::files
