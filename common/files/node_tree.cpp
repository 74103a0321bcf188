#include "common/files/node_tree.hpp"

#include "common/files/beneath.hpp"
#include "common/posix/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace openbatch::files {
namespace fs = std::filesystem;
namespace {

TimePoint to_time_point(const struct timespec& ts) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

FileInfo info_of(const struct stat& st, std::string name) {
  FileInfo info;
  info.name = std::move(name);
  info.is_directory = S_ISDIR(st.st_mode);
  info.size = info.is_directory ? 0 : static_cast<uint64_t>(st.st_size);
  info.last_modified = to_time_point(st.st_mtim);
  info.creation_time = to_time_point(st.st_ctim);  // Linux keeps no portable birth time
  info.mode = st.st_mode & 07777;
  return info;
}

// [first, end) of `range` in a file of `size` bytes; 416 when it starts past the end (an empty
// file may still be read from 0).
Result<std::pair<uint64_t, uint64_t>> span_of(uint64_t size,
                                              const std::optional<ByteRange>& range) {
  uint64_t first = 0;
  uint64_t end = size;  // exclusive
  if (range) {
    if (range->first >= size && !(size == 0 && range->first == 0)) return invalid_range();
    first = range->first;
    if (range->last) end = std::min<uint64_t>(*range->last + 1, size);
  }
  return std::pair{first, end};
}

// `path` relative to the root with '.' and '..' folded lexically; nullopt when a '..' would
// leave the root. An absolute path counts from the root.
std::optional<std::string> relative_of(const std::string& path) {
  const fs::path rel = fs::path(path).relative_path().lexically_normal();
  if (!rel.empty() && *rel.begin() == "..") return std::nullopt;
  std::string out = rel.generic_string();
  return out == "." ? std::string() : out;
}

// What a failed resolution means to a client: a path that is not there (or not allowed:
// a symlink, an escape) is not found; anything else is the node's fault.
Error error_of(int err, const std::string& what) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:
    case EXDEV:
    case EACCES:
    case ENAMETOOLONG:
      return file_not_found();
    default:
      return errors::internal(what + ": " + posix::errno_text(err));
  }
}

// A recursive listing stops descending here: a task can nest directories without end, and
// each level costs a descriptor and a stack frame.
constexpr int kMaxListDepth = 256;

// Appends the entries of `dir` (names prefixed by `prefix`), descending into directories when
// `recursive`. Each subdirectory is opened beneath its parent's descriptor with O_NOFOLLOW,
// so a directory swapped for a link is skipped, never entered.
void list_into(int dir, const std::string& prefix, bool recursive, std::size_t limit,
               std::vector<FileInfo>& out, int depth = 0) {
  DIR* d = ::fdopendir(::fcntl(dir, F_DUPFD_CLOEXEC, 3));
  if (d == nullptr) return;
  std::vector<std::string> subdirs;
  while (out.size() < limit) {
    dirent* e = ::readdir(d);
    if (e == nullptr) break;
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    out.push_back(info_of(st, prefix + name));
    if (recursive && S_ISDIR(st.st_mode) && depth < kMaxListDepth) subdirs.push_back(name);
  }
  ::closedir(d);
  for (const auto& name : subdirs) {
    if (out.size() >= limit) break;
    posix::UniqueFd sub(
        ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub.get() >= 0) list_into(sub.get(), prefix + name + "/", recursive, limit, out, depth + 1);
  }
}

}  // namespace

Error file_not_found() {
  return errors::not_found("FileNotFound", "The specified file does not exist.");
}

Error invalid_range(std::string message) { return Error(416, "InvalidRange", std::move(message)); }

Result<std::pair<uint64_t, uint64_t>> select_bytes(uint64_t size,
                                                   const std::optional<ByteRange>& range) {
  auto span = span_of(size, range);
  if (span && span->second - span->first > kMaxFileReadBytes) {
    return invalid_range("The file is larger than 256 MiB; read it in ranges with ocp-range.");
  }
  return span;
}

namespace {

// A descriptor of the node root, or 409 NodeFilesUnavailable.
Result<posix::UniqueFd> open_root(const fs::path& root_dir) {
  auto root = open_trusted_dir(root_dir);
  if (!root)
    return errors::conflict("NodeFilesUnavailable", "The files of this node are not reachable.");
  return std::move(root.fd);
}

// The file `path` opened for reading, with its facts; 404 for a directory or a non-file.
Result<std::pair<posix::UniqueFd, FileInfo>> open_file(const fs::path& root_dir,
                                                       const std::string& path) {
  auto root = open_root(root_dir);
  if (!root) return root.error();
  auto rel = relative_of(path);
  if (!rel) return file_not_found();
  // O_NONBLOCK: a FIFO a task left in its directory must not hang the reader.
  auto f = open_beneath(root->get(), *rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!f) return error_of(f.err, "Could not open the file");
  struct stat st {};
  if (::fstat(f.fd.get(), &st) != 0) return errors::internal("Could not read the file.");
  if (!S_ISREG(st.st_mode)) return file_not_found();
  return std::pair{std::move(f.fd), info_of(st, path)};
}

}  // namespace

Result<FileInfo> NodeTree::stat(const std::string& path) const {
  auto root = open_root(root_);
  if (!root) return root.error();
  auto rel = relative_of(path);
  if (!rel) return file_not_found();
  auto f = open_beneath(root->get(), *rel, O_PATH);
  if (!f) return error_of(f.err, "Could not stat the file");
  struct stat st {};
  if (::fstat(f.fd.get(), &st) != 0) return errors::internal("Could not stat the file.");
  return info_of(st, path);
}

Result<std::vector<FileInfo>> NodeTree::list(const std::string& dir, bool recursive,
                                             std::size_t limit) const {
  auto root = open_root(root_);
  if (!root) return root.error();
  auto rel = relative_of(dir);
  if (!rel) return file_not_found();
  auto d = open_beneath(root->get(), *rel, O_RDONLY | O_DIRECTORY);
  if (!d) return error_of(d.err, "Could not list the directory");
  std::vector<FileInfo> out;
  list_into(d.fd.get(), "", recursive, limit, out);
  std::sort(out.begin(), out.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
  return out;
}

namespace {

Result<uint64_t> read_range(int fd, uint64_t first, uint64_t count, std::string& out) {
  out.resize(count);
  uint64_t done = 0;
  while (done < count) {
    ssize_t n = ::pread(fd, out.data() + done, count - done, static_cast<off_t>(first + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errors::internal("Could not read the file.");
    if (n == 0) break;  // the file shrank since it was stat'ed
    done += static_cast<uint64_t>(n);
  }
  out.resize(done);
  return done;
}

}  // namespace

Result<std::string> NodeTree::read(const std::string& path,
                                   const std::optional<ByteRange>& range) const {
  auto file = open_file(root_, path);
  if (!file) return file.error();
  auto span = select_bytes(file->second.size, range);
  if (!span) return span.error();
  std::string data;
  if (auto n = read_range(file->first.get(), span->first, span->second - span->first, data); !n)
    return n.error();
  return data;
}

Result<FileChunk> NodeTree::read_chunk(const std::string& path,
                                       const std::optional<ByteRange>& range,
                                       uint64_t max_bytes) const {
  auto file = open_file(root_, path);
  if (!file) return file.error();
  auto span = span_of(file->second.size, range);
  if (!span) return span.error();
  FileChunk chunk;
  chunk.info = std::move(file->second);
  chunk.first = span->first;
  const uint64_t count = std::min<uint64_t>(span->second - span->first, max_bytes);
  if (auto n = read_range(file->first.get(), chunk.first, count, chunk.data); !n) return n.error();
  return chunk;
}

Status NodeTree::remove(const std::string& path, bool recursive) const {
  auto root = open_root(root_);
  if (!root) return root.error();
  auto rel = relative_of(path);
  if (!rel) return file_not_found();
  if (rel->empty())
    return errors::conflict("OperationInvalid", "The node's root directory cannot be deleted.");
  // The entry is removed relative to its parent's descriptor: a link is deleted, not what it
  // names, and a directory swapped for a link meanwhile is never descended into.
  auto parent = open_parent_beneath(root->get(), *rel);
  if (!parent) return error_of(parent.err, "Could not delete the file");
  struct stat st {};
  if (::fstatat(parent.dir.get(), parent.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return error_of(errno, "Could not delete the file");
  }
  int err = 0;
  if (recursive) {
    err = remove_tree_at(parent.dir.get(), parent.name);
  } else if (::unlinkat(parent.dir.get(), parent.name.c_str(),
                        S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0) {
    err = errno;
  }
  if (err == ENOTEMPTY || err == EEXIST) {
    return errors::conflict("DirectoryNotEmpty",
                            "The directory is not empty; use recursive=true to delete it.");
  }
  if (err != 0) return error_of(err, "Could not delete the file");
  return {};
}

}  // namespace openbatch::files
