// extract_archive on libarchive's read API; every file, folder and link is created here with
// *at() calls relative to descriptors of folders inside the temporary folder, opened with
// O_NOFOLLOW, so a link planted by the archive is never followed (see safe_extract.hpp).
#include "node_agent/packages/safe_extract.hpp"

#include "common/posix/unique_fd.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <set>
#include <stdio.h>
#include <stdlib.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace openbatch::agent::packages {
namespace {

namespace fs = std::filesystem;
using posix::errno_text;
using posix::UniqueFd;

Error extraction_error(std::string message) {
  return Error(400, std::string(kPackageExtractionFailed), std::move(message));
}

// The path components of an entry, "" and "." dropped; an Error reason for an absolute path or
// a ".." component.
struct SplitPath {
  std::vector<std::string> parts;
  std::string problem;
};

SplitPath split_entry_path(std::string_view path) {
  SplitPath out;
  if (path.empty()) {
    out.problem = "the entry has an empty path";
    return out;
  }
  if (path.front() == '/') {
    out.problem = "absolute paths are not allowed";
    return out;
  }
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      out.problem = "path escapes the package folder";
      return out;
    }
    out.parts.emplace_back(part);
  }
  return out;
}

// Why a link `link_depth` folders below the package root may not point at `target`, or "" when
// it may. Only "../" steps followed by plain names are accepted: the link's own folders are real
// folders (no entry passes through a link), so climbing at most link_depth of them stays inside,
// and descending by names never climbs; links met on the way down are held to the same rule.
std::string symlink_target_problem(std::size_t link_depth, std::string_view target) {
  if (target.empty()) return "the symbolic link has an empty target";
  if (target.front() == '/') {
    return "symbolic link target '" + std::string(target) + "' is an absolute path";
  }
  std::size_t ups = 0;
  bool named = false;
  std::string_view rest = target;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part != "..") {
      named = true;
    } else if (named) {
      return "symbolic link target '" + std::string(target) +
             "' uses '..' after a folder name, which is not allowed";
    } else {
      ++ups;
    }
  }
  if (ups > link_depth) {
    return "symbolic link target '" + std::string(target) + "' points outside the package folder";
  }
  return {};
}

// Files get read for all, execute for all when the archive marks them executable at all, and
// owner write only when the archive says so.
mode_t file_mode(mode_t archive_perm) {
  mode_t mode = 0444 | (archive_perm & 0200);
  if ((archive_perm & 0111) != 0) mode |= 0111;
  return mode;
}

constexpr mode_t kFolderMode = 0755;

Status write_all_at(int fd, const char* data, std::size_t size, off_t offset) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return extraction_error("writing the package: " + errno_text(errno));
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += n;
  }
  return {};
}

Status fsync_path(const fs::path& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return extraction_error("syncing " + path.string() + ": " + errno_text(errno));
  }
  return {};
}

struct ArchiveCloser {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchiveReader = std::unique_ptr<struct archive, ArchiveCloser>;

// One extraction into an open temporary folder.
class Extractor {
 public:
  Extractor(struct archive* reader, int root_fd, const ExtractLimits& limits,
            std::uint64_t archive_bytes)
      : reader_(reader), root_fd_(root_fd), limits_(limits), archive_bytes_(archive_bytes) {}

  Result<ExtractStats> run() {
    for (;;) {
      struct archive_entry* entry = nullptr;
      const int r = archive_read_next_header(reader_, &entry);
      if (r == ARCHIVE_EOF) break;
      // ARCHIVE_WARN is a name that does not convert to the locale; the UTF-8 name is used.
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        return extraction_error("cannot read the archive: " + last_error());
      }
      if (++stats_.entries > limits_.max_entries) {
        return extraction_error("the archive has more than " + std::to_string(limits_.max_entries) +
                                " entries");
      }
      if (auto st = extract_entry(entry); !st) return st.error();
    }
    return stats_;
  }

  // Folders made here, relative to the root, for the final fsync.
  const std::vector<std::string>& folders() const { return folders_; }

 private:
  std::string last_error() const {
    const char* text = archive_error_string(reader_);
    return text != nullptr ? text : "unknown libarchive error";
  }

  std::string kind() const {
    switch (archive_format(reader_) & ARCHIVE_FORMAT_BASE_MASK) {
      case ARCHIVE_FORMAT_ZIP:
        return "zip";
      case ARCHIVE_FORMAT_TAR:
        return "tar";
      default:
        return "archive";
    }
  }

  Error fail(std::string_view reason) const {
    return extraction_error(kind() + " entry '" + name_ + "': " + std::string(reason));
  }

  Status extract_entry(struct archive_entry* entry) {
    const char* utf8 = archive_entry_pathname_utf8(entry);
    const char* raw = archive_entry_pathname(entry);
    name_ = utf8 != nullptr ? utf8 : raw != nullptr ? raw : "";
    SplitPath path = split_entry_path(name_);
    if (!path.problem.empty()) return fail(path.problem);
    if (archive_entry_hardlink(entry) != nullptr) return fail("hard links are not supported");

    const mode_t type = archive_entry_filetype(entry);
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
      return fail("only files, folders and symbolic links are allowed");
    }
    if (path.parts.empty()) {  // "./": the package root itself
      if (type != AE_IFDIR) return fail("the entry has an empty path");
      ++stats_.directories;
      return {};
    }
    auto parent = open_parent(path.parts);
    if (!parent) return parent.error();
    const std::string& leaf = path.parts.back();
    const std::string relative = join(path.parts, path.parts.size());
    switch (type) {
      case AE_IFDIR: {
        ++stats_.directories;
        auto folder = make_folder(parent->get(), leaf, relative);
        if (!folder) return folder.error();
        return {};
      }
      case AE_IFLNK:
        return make_symlink(entry, parent->get(), leaf, relative, path.parts.size() - 1);
      default:
        return make_file(entry, parent->get(), leaf);
    }
  }

  static std::string join(const std::vector<std::string>& parts, std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
      if (i > 0) out += '/';
      out += parts[i];
    }
    return out;
  }

  // Opens (making it when missing) the folder `name` inside `parent_fd`.
  Result<UniqueFd> make_folder(int parent_fd, const std::string& name,
                               const std::string& relative) {
    bool made = false;
    if (::mkdirat(parent_fd, name.c_str(), kFolderMode) == 0) {
      made = true;
    } else if (errno != EEXIST) {
      return fail("creating folder '" + relative + "': " + errno_text(errno));
    }
    UniqueFd fd(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return fail("'" + relative + "' already exists and is not a folder");
      }
      return fail("opening folder '" + relative + "': " + errno_text(errno));
    }
    if (made) {
      if (::fchmod(fd.get(), kFolderMode) != 0) {  // mkdirat's mode went through the umask
        return fail("setting the mode of '" + relative + "': " + errno_text(errno));
      }
      folders_.push_back(relative);
    }
    return fd;
  }

  // The folder holding the entry's last component, made with its missing ancestors.
  Result<UniqueFd> open_parent(const std::vector<std::string>& parts) {
    UniqueFd current(::dup(root_fd_));
    if (current.get() < 0) return fail("dup: " + errno_text(errno));
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      const std::string relative = join(parts, i + 1);
      if (symlinks_.contains(relative)) {
        return fail("path passes through the symbolic link '" + relative + "'");
      }
      auto next = make_folder(current.get(), parts[i], relative);
      if (!next) return next.error();
      current = std::move(*next);
    }
    return current;
  }

  Status make_symlink(struct archive_entry* entry, int parent_fd, const std::string& leaf,
                      const std::string& relative, std::size_t depth) {
    const char* utf8 = archive_entry_symlink_utf8(entry);
    const char* raw = archive_entry_symlink(entry);
    const std::string target = utf8 != nullptr ? utf8 : raw != nullptr ? raw : "";
    if (auto problem = symlink_target_problem(depth, target); !problem.empty()) {
      return fail(problem);
    }
    if (::symlinkat(target.c_str(), parent_fd, leaf.c_str()) != 0) {
      if (errno == EEXIST) return fail("the path appears more than once in the archive");
      return fail("creating the symbolic link: " + errno_text(errno));
    }
    symlinks_.insert(relative);
    ++stats_.symlinks;
    return {};
  }

  Status make_file(struct archive_entry* entry, int parent_fd, const std::string& leaf) {
    if (archive_entry_size_is_set(entry) != 0 && archive_entry_size(entry) >= 0 &&
        static_cast<std::uint64_t>(archive_entry_size(entry)) > limits_.max_entry_bytes) {
      return fail(entry_limit_reason());
    }
    UniqueFd fd(::openat(parent_fd, leaf.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
      if (errno == EEXIST) return fail("the path appears more than once in the archive");
      return fail("creating the file: " + errno_text(errno));
    }
    std::uint64_t written = 0;  // logical end of the file so far (holes of sparse tars count)
    for (;;) {
      const void* block = nullptr;
      std::size_t size = 0;
      la_int64_t offset = 0;
      const int r = archive_read_data_block(reader_, &block, &size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        return fail("cannot read the data: " + last_error());
      if (offset < 0 || static_cast<std::uint64_t>(offset) < written) {
        return fail("the data blocks overlap");
      }
      const std::uint64_t end = static_cast<std::uint64_t>(offset) + size;
      const std::uint64_t grown = end - written;
      if (end > limits_.max_entry_bytes) return fail(entry_limit_reason());
      if (stats_.bytes + grown > limits_.max_total_bytes) {
        return fail("the package expands to more than " + std::to_string(limits_.max_total_bytes) +
                    " bytes");
      }
      if (auto st = write_all_at(fd.get(), static_cast<const char*>(block), size, offset); !st) {
        return fail(st.error().message);
      }
      written = end;
      stats_.bytes += grown;
      if (stats_.bytes > limits_.ratio_floor_bytes &&
          stats_.bytes > limits_.max_ratio * archive_bytes_) {
        return fail("the package expands to more than " + std::to_string(limits_.max_ratio) +
                    " times the size of its archive");
      }
    }
    const mode_t mode = file_mode(archive_entry_perm(entry));
    if (::fchmod(fd.get(), mode) != 0 || ::fsync(fd.get()) != 0) {
      return fail("finishing the file: " + errno_text(errno));
    }
    ++stats_.files;
    return {};
  }

  std::string entry_limit_reason() const {
    return "the entry is larger than " + std::to_string(limits_.max_entry_bytes) + " bytes";
  }

  struct archive* reader_;
  int root_fd_;
  const ExtractLimits& limits_;
  std::uint64_t archive_bytes_;
  ExtractStats stats_;
  std::string name_;                // the entry being extracted, for messages
  std::set<std::string> symlinks_;  // links made so far, relative to the root
  std::vector<std::string> folders_;
};

// Removes the temporary folder unless the extraction completed.
class TempFolder {
 public:
  explicit TempFolder(fs::path path) : path_(std::move(path)) {}
  ~TempFolder() {
    if (path_.empty()) return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);  // does not follow links
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const fs::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

// Moves the finished `staged` folder onto `destination` (see the header on atomicity). On
// success `staged` names nothing that needs keeping.
Status move_into_place(const fs::path& staged, const fs::path& destination) {
  struct stat st {};
  if (::lstat(destination.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return extraction_error("checking " + destination.string() + ": " + errno_text(errno));
    }
    if (::rename(staged.c_str(), destination.c_str()) != 0) {
      return extraction_error("renaming the package into " + destination.string() + ": " +
                              errno_text(errno));
    }
    return {};
  }
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, destination.c_str(), RENAME_EXCHANGE) == 0) {
    std::error_code ignored;
    fs::remove_all(staged, ignored);  // now the old package
    return {};
  }
  if (errno != EINVAL && errno != ENOSYS) {
    return extraction_error("replacing " + destination.string() + ": " + errno_text(errno));
  }
  fs::path old = staged;
  old += ".old";
  if (::rename(destination.c_str(), old.c_str()) != 0) {
    return extraction_error("moving the old " + destination.string() +
                            " aside: " + errno_text(errno));
  }
  if (::rename(staged.c_str(), destination.c_str()) != 0) {
    const int err = errno;
    (void)::rename(old.c_str(), destination.c_str());
    return extraction_error("renaming the package into " + destination.string() + ": " +
                            errno_text(err));
  }
  std::error_code ignored;
  fs::remove_all(old, ignored);
  return {};
}

}  // namespace

Result<ExtractStats> extract_archive(const fs::path& archive, const fs::path& destination,
                                     const ExtractLimits& limits) {
  if (destination.filename().empty() || !destination.has_parent_path()) {
    return extraction_error("'" + destination.string() + "' is not a package folder path");
  }
  std::error_code ec;
  const std::uint64_t archive_bytes = fs::file_size(archive, ec);
  if (ec) return extraction_error("reading " + archive.string() + ": " + ec.message());

  ArchiveReader reader(archive_read_new());
  if (!reader) return extraction_error("libarchive: out of memory");
  // Zip (Azure's package format) and tar; no external filter programs are ever started.
  archive_read_support_format_zip(reader.get());
  archive_read_support_format_tar(reader.get());
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_filter_bzip2(reader.get());
  archive_read_support_filter_xz(reader.get());
  if (archive_read_open_filename(reader.get(), archive.c_str(), 64 * 1024) != ARCHIVE_OK) {
    const char* text = archive_error_string(reader.get());
    return extraction_error("cannot open " + archive.string() + " as a zip or tar archive: " +
                            (text != nullptr ? text : "unknown error"));
  }

  std::string tmpl = destination.string() + ".tmp-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return extraction_error("creating a folder next to " + destination.string() + ": " +
                            errno_text(errno));
  }
  TempFolder staged{fs::path(tmpl)};
  UniqueFd root(::open(tmpl.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (root.get() < 0) return extraction_error("opening " + tmpl + ": " + errno_text(errno));

  Extractor extractor(reader.get(), root.get(), limits, archive_bytes);
  auto stats = extractor.run();
  if (!stats) return stats.error();
  for (const auto& folder : extractor.folders()) {
    if (auto st = fsync_path(staged.path() / folder, O_DIRECTORY); !st) return st.error();
  }
  if (::fchmod(root.get(), kFolderMode) != 0 || ::fsync(root.get()) != 0) {
    return extraction_error("finishing " + tmpl + ": " + errno_text(errno));
  }
  root.reset();
  if (auto st = move_into_place(staged.path(), destination); !st) return st.error();
  staged.release();  // renamed onto destination (or, after an exchange, already removed)
  if (auto st = fsync_path(destination.parent_path(), O_DIRECTORY); !st) return st.error();
  return stats;
}

}  // namespace openbatch::agent::packages
