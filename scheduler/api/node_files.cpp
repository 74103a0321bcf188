#include "scheduler/api/node_files.hpp"

#include <sys/stat.h>

#include <fstream>

namespace openbatch::api {
namespace fs = std::filesystem;
namespace {

Error file_not_found() { return errors::not_found("FileNotFound", "The specified file does not exist."); }

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

bool within(const fs::path& root, const fs::path& p) {
  auto r = root.lexically_normal().string();
  auto s = p.lexically_normal().string();
  return s == r || (s.size() > r.size() && s.compare(0, r.size(), r) == 0 && s[r.size()] == '/');
}

}  // namespace

Result<fs::path> LocalNodeFiles::resolve(const std::string& pool, const std::string& node,
                                         const std::string& path) const {
  std::error_code ec;
  fs::path root = fs::weakly_canonical(nodes_root_ / pool / node, ec);
  if (ec || !fs::is_directory(root)) {
    return errors::conflict("NodeFilesUnavailable", "The files of this node are not reachable.");
  }
  fs::path full = fs::weakly_canonical(root / path, ec);
  if (ec || !within(root, full)) return file_not_found();
  return full;
}

Result<FileInfo> LocalNodeFiles::stat(const std::string& pool, const std::string& node, const std::string& path) {
  auto full = resolve(pool, node, path);
  if (!full) return full.error();
  return info_of(*full, path);
}

Result<std::vector<FileInfo>> LocalNodeFiles::list(const std::string& pool, const std::string& node,
                                                   const std::string& dir, bool recursive, std::size_t limit) {
  auto full = resolve(pool, node, dir);
  if (!full) return full.error();
  std::error_code ec;
  if (!fs::is_directory(*full, ec)) return file_not_found();
  std::vector<FileInfo> out;
  auto add = [&](const fs::directory_entry& e) {
    auto rel = e.path().lexically_relative(*full).generic_string();
    if (auto info = info_of(e.path(), rel)) out.push_back(std::move(*info));
  };
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

Result<std::string> LocalNodeFiles::read(const std::string& pool, const std::string& node, const std::string& path,
                                         const std::optional<ByteRange>& range) {
  auto full = resolve(pool, node, path);
  if (!full) return full.error();
  auto info = info_of(*full, path);
  if (!info) return info.error();
  if (info->is_directory) return file_not_found();
  uint64_t first = 0;
  uint64_t end = info->size;  // exclusive
  if (range) {
    if (range->first >= info->size && !(info->size == 0 && range->first == 0)) {
      return Error(416, "InvalidRange", "The byte range specified is invalid or unavailable.");
    }
    first = range->first;
    if (range->last) end = std::min<uint64_t>(*range->last + 1, info->size);
  }
  if (end - first > kMaxFileReadBytes) {
    return Error(416, "InvalidRange", "The file is larger than 256 MiB; read it in ranges with ocp-range.");
  }
  std::ifstream in(*full, std::ios::binary);
  if (!in) return file_not_found();
  std::string data(end - first, '\0');
  in.seekg(static_cast<std::streamoff>(first));
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<std::size_t>(in.gcount()));
  return data;
}

Status LocalNodeFiles::remove(const std::string& pool, const std::string& node, const std::string& path, bool recursive) {
  auto full = resolve(pool, node, path);
  if (!full) return full.error();
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(*full, ec))) return file_not_found();
  if (fs::is_directory(*full, ec) && !fs::is_empty(*full, ec) && !recursive) {
    return errors::conflict("DirectoryNotEmpty", "The directory is not empty; use recursive=true to delete it.");
  }
  recursive ? fs::remove_all(*full, ec) : fs::remove(*full, ec);
  if (ec) return errors::internal("Could not delete the file: " + ec.message());
  return {};
}

}  // namespace openbatch::api
