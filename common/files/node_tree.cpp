#include "common/files/node_tree.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/posix/unique_fd.hpp"

namespace openbatch::files {
namespace fs = std::filesystem;
namespace {

TimePoint to_time_point(const struct timespec& ts) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(ts.tv_sec) +
                                                                   std::chrono::nanoseconds(ts.tv_nsec)));
}

Result<FileInfo> info_of(const fs::path& full, std::string name) {
  struct stat st {};
  if (::lstat(full.c_str(), &st) != 0) return file_not_found();
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
Result<std::pair<uint64_t, uint64_t>> span_of(uint64_t size, const std::optional<ByteRange>& range) {
  uint64_t first = 0;
  uint64_t end = size;  // exclusive
  if (range) {
    if (range->first >= size && !(size == 0 && range->first == 0)) return invalid_range();
    first = range->first;
    if (range->last) end = std::min<uint64_t>(*range->last + 1, size);
  }
  return std::pair{first, end};
}

bool within(const fs::path& root, const fs::path& p) {
  auto r = root.lexically_normal().string();
  auto s = p.lexically_normal().string();
  return s == r || (s.size() > r.size() && s.compare(0, r.size(), r) == 0 && s[r.size()] == '/');
}

}  // namespace

Error file_not_found() { return errors::not_found("FileNotFound", "The specified file does not exist."); }

Error invalid_range(std::string message) { return Error(416, "InvalidRange", std::move(message)); }

Result<std::pair<uint64_t, uint64_t>> select_bytes(uint64_t size, const std::optional<ByteRange>& range) {
  auto span = span_of(size, range);
  if (span && span->second - span->first > kMaxFileReadBytes) {
    return invalid_range("The file is larger than 256 MiB; read it in ranges with ocp-range.");
  }
  return span;
}

Result<fs::path> NodeTree::resolve(const std::string& path, bool follow_last) const {
  std::error_code ec;
  fs::path root = fs::weakly_canonical(root_, ec);
  if (ec || !fs::is_directory(root)) {
    return errors::conflict("NodeFilesUnavailable", "The files of this node are not reachable.");
  }
  // weakly_canonical follows every symlink that exists, so a link out of the root lands
  // outside it and is refused below; '..' is folded the same way. An absolute path counts
  // from the root.
  const fs::path rel = fs::path(path).relative_path().lexically_normal();
  fs::path full;
  const fs::path last = rel.filename();
  if (!follow_last && !last.empty() && last != "." && last != "..") {
    full = fs::weakly_canonical(root / rel.parent_path(), ec) / last;
  } else {
    full = fs::weakly_canonical(root / rel, ec);
  }
  if (ec || !within(root, full)) return file_not_found();
  return full;
}

Result<FileInfo> NodeTree::stat(const std::string& path) const {
  auto full = resolve(path);
  if (!full) return full.error();
  return info_of(*full, path);
}

Result<std::vector<FileInfo>> NodeTree::list(const std::string& dir, bool recursive, std::size_t limit) const {
  auto full = resolve(dir);
  if (!full) return full.error();
  std::error_code ec;
  if (!fs::is_directory(*full, ec)) return file_not_found();
  std::vector<FileInfo> out;
  auto add = [&](const fs::directory_entry& e) {
    auto rel = e.path().lexically_relative(*full).generic_string();
    if (auto info = info_of(e.path(), rel)) out.push_back(std::move(*info));
  };
  // Neither iterator follows directory symlinks, so a listing never leaves the root.
  if (recursive) {
    for (auto it = fs::recursive_directory_iterator(*full, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator() && out.size() < limit; it.increment(ec)) {
      add(*it);
    }
  } else {
    for (auto it = fs::directory_iterator(*full, ec); !ec && it != fs::directory_iterator() && out.size() < limit;
         it.increment(ec)) {
      add(*it);
    }
  }
  std::sort(out.begin(), out.end(), [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
  return out;
}

Result<uint64_t> NodeTree::read_into(const fs::path& full, uint64_t first, uint64_t count, std::string& out) const {
  // O_NOFOLLOW: the path was resolved without symlinks; one swapped in since is not followed.
  posix::UniqueFd fd(::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return file_not_found();
  out.resize(count);
  uint64_t done = 0;
  while (done < count) {
    ssize_t n = ::pread(fd.get(), out.data() + done, count - done, static_cast<off_t>(first + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errors::internal("Could not read the file.");
    if (n == 0) break;  // the file shrank since it was stat'ed
    done += static_cast<uint64_t>(n);
  }
  out.resize(done);
  return done;
}

Result<std::string> NodeTree::read(const std::string& path, const std::optional<ByteRange>& range) const {
  auto full = resolve(path);
  if (!full) return full.error();
  auto info = info_of(*full, path);
  if (!info) return info.error();
  if (info->is_directory) return file_not_found();
  auto span = select_bytes(info->size, range);
  if (!span) return span.error();
  std::string data;
  if (auto n = read_into(*full, span->first, span->second - span->first, data); !n) return n.error();
  return data;
}

Result<FileChunk> NodeTree::read_chunk(const std::string& path, const std::optional<ByteRange>& range,
                                       uint64_t max_bytes) const {
  auto full = resolve(path);
  if (!full) return full.error();
  auto info = info_of(*full, path);
  if (!info) return info.error();
  if (info->is_directory) return file_not_found();
  auto span = span_of(info->size, range);
  if (!span) return span.error();
  FileChunk chunk;
  chunk.info = std::move(*info);
  chunk.first = span->first;
  const uint64_t count = std::min<uint64_t>(span->second - span->first, max_bytes);
  if (auto n = read_into(*full, chunk.first, count, chunk.data); !n) return n.error();
  return chunk;
}

Status NodeTree::remove(const std::string& path, bool recursive) const {
  auto full = resolve(path, /*follow_last=*/false);  // a link is deleted, not what it names
  if (!full) return full.error();
  std::error_code ec;
  if (*full == fs::weakly_canonical(root_, ec)) {
    return errors::conflict("OperationInvalid", "The node's root directory cannot be deleted.");
  }
  if (!fs::exists(fs::symlink_status(*full, ec))) return file_not_found();
  if (fs::is_directory(fs::symlink_status(*full, ec)) && !fs::is_empty(*full, ec) && !recursive) {
    return errors::conflict("DirectoryNotEmpty", "The directory is not empty; use recursive=true to delete it.");
  }
  recursive ? fs::remove_all(*full, ec) : fs::remove(*full, ec);
  if (ec) return errors::internal("Could not delete the file: " + ec.message());
  return {};
}

}  // namespace openbatch::files
