#include "scheduler/startup/data_dirs.hpp"

#include "common/posix/unique_fd.hpp"
#include "scheduler/startup/file_mode.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

namespace openbatch::startup {
namespace fs = std::filesystem;
namespace {

Error refused(std::string message) { return Error(400, "InvalidArgument", std::move(message)); }

fs::path normal_absolute(const fs::path& p) {
  fs::path out = fs::absolute(p).lexically_normal();
  if (out.has_parent_path() && !out.has_filename()) out = out.parent_path();  // "a/b/" -> "a/b"
  return out;
}

bool is_within(const fs::path& inner, const fs::path& outer) {
  auto mismatch = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
  return mismatch.first == outer.end();
}

// mkdir with exactly `mode` (the scheduler's umask is 077); EEXIST is fine.
Status make_dir(const fs::path& dir, mode_t mode) {
  if (::mkdir(dir.c_str(), mode) == 0) {
    if (::chmod(dir.c_str(), mode) != 0) {
      return refused("cannot chmod " + dir.string() + ": " + posix::errno_text(errno));
    }
    return {};
  }
  if (errno == EEXIST) return {};
  return refused("cannot create " + dir.string() + ": " + posix::errno_text(errno));
}

// An existing directory we must own; chmod to `mode` when it differs.
Status own_dir_with_mode(const fs::path& dir, mode_t mode, const char* what) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return refused("cannot stat " + dir.string() + ": " + posix::errno_text(errno));
  if (!S_ISDIR(st.st_mode))
    return refused(std::string(what) + " " + dir.string() + " is not a directory");
  if (st.st_uid != ::geteuid()) {
    return refused(std::string(what) + " " + dir.string() + " belongs to uid " +
                   std::to_string(st.st_uid) + ", not to this scheduler's user (uid " +
                   std::to_string(::geteuid()) +
                   "): another user could read or change it; pick a directory of our own");
  }
  if ((st.st_mode & 07777) != mode) {
    if (::chmod(dir.c_str(), mode) != 0) {
      return refused("cannot chmod " + dir.string() + ": " + posix::errno_text(errno));
    }
    spdlog::info("{} {}: mode {} -> {}", what, dir.string(), octal_mode(st.st_mode),
                 octal_mode(mode));
  }
  return {};
}

// Files an older version (or a wider umask) left readable by others: 0600 now.
void make_private(const fs::path& file) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) == 0) return;
  if (st.st_uid == ::geteuid() && ::chmod(file.c_str(), kDataFileMode) == 0) {
    spdlog::info("{}: mode {} -> 0600", file.string(), octal_mode(st.st_mode));
  }
}

// Creates the missing directories above `dir` (not `dir` itself) 0755, as `mkdir -p` under
// the usual umask would: our umask (077) would make them 0700 and hide the nodes directory.
Status make_parents(const fs::path& dir) {
  fs::path walked;
  for (const auto& part : dir.parent_path()) {
    walked /= part;
    if (walked == walked.root_path()) continue;
    if (auto st = make_dir(walked, kNodesDirMode); !st) return st;
  }
  return {};
}

}  // namespace

fs::path default_nodes_dir(const fs::path& data_dir) {
  fs::path dir = data_dir.lexically_normal();
  if (dir.has_parent_path() && !dir.has_filename()) dir = dir.parent_path();
  return fs::path(dir.string() + ".nodes");
}

std::optional<std::string> unsafe_ancestor(uid_t owner, mode_t mode, uid_t euid) {
  if (owner != 0 && owner != euid) return "it belongs to uid " + std::to_string(owner);
  if ((mode & 022) != 0 && (mode & S_ISVTX) == 0) {
    return "group or others may write it (mode " + octal_mode(mode) + ") and it is not sticky";
  }
  return std::nullopt;
}

Status prepare_data_dir(const fs::path& data_dir) {
  const fs::path dir = normal_absolute(data_dir);
  if (auto st = make_parents(dir); !st) return st;
  if (auto st = make_dir(dir, kDataDirMode); !st) return st;
  if (auto st = own_dir_with_mode(dir, kDataDirMode, "data directory"); !st) return st;
  for (const char* name : {"openbatch.db", "openbatch.db-wal", "openbatch.db-shm",
                           "openbatch.db-journal", "account.key"}) {
    make_private(dir / name);
  }
  const fs::path packages = dir / "packages";
  std::error_code ec;
  if (fs::is_directory(packages, ec)) {
    ::chmod(packages.c_str(), kDataDirMode);
    for (const auto& entry : fs::directory_iterator(packages, ec)) make_private(entry.path());
  }
  if (fs::is_directory(dir / "nodes", ec)) {
    spdlog::warn(
        "{} holds node roots of an earlier version; local node roots now live in the nodes "
        "directory (--nodes-dir): remove it once nothing there is needed",
        (dir / "nodes").string());
  }
  return {};
}

Status prepare_nodes_dir(const fs::path& nodes_dir, const fs::path& data_dir) {
  const fs::path nodes = normal_absolute(nodes_dir);
  const fs::path data = normal_absolute(data_dir);
  if (is_within(nodes, data) || is_within(data, nodes)) {
    return refused("--nodes-dir " + nodes.string() +
                   " must be neither inside nor around the data directory " + data.string() +
                   ": tasks must reach the node roots, and never the data directory");
  }
  // Missing directories on the way are made 0755: tasks walk through them.
  if (auto st = make_parents(nodes); !st) return st;
  if (auto st = make_dir(nodes, kNodesDirMode); !st) return st;
  if (auto st = own_dir_with_mode(nodes, kNodesDirMode, "nodes directory"); !st) return st;
  std::error_code ec;
  const fs::path real = fs::canonical(nodes, ec);
  if (ec) return refused("cannot resolve " + nodes.string() + ": " + ec.message());
  const fs::path real_data = fs::weakly_canonical(data, ec);
  if (!ec && (is_within(real, real_data) || is_within(real_data, real))) {
    return refused("--nodes-dir " + nodes.string() + " resolves to " + real.string() +
                   ", inside or around the data directory " + real_data.string());
  }
  // Every directory above it: nobody but root and us may swap what lies below.
  fs::path above;
  for (const auto& part : real) {
    above /= part;
    struct stat st {};
    if (::lstat(above.c_str(), &st) != 0)
      return refused("cannot stat " + above.string() + ": " + posix::errno_text(errno));
    if (auto why = unsafe_ancestor(st.st_uid, st.st_mode, ::geteuid())) {
      return refused("the nodes directory " + real.string() + " is not safe: " + above.string() +
                     ": " + *why + "; pick another --nodes-dir");
    }
    if (::geteuid() == 0 && (st.st_mode & S_IXOTH) == 0) {
      spdlog::warn(
          "{} (mode {}) keeps nonadmin tasks from reaching their node roots in {}: chmod o+x it, "
          "or "
          "pick another --nodes-dir",
          above.string(), octal_mode(st.st_mode), real.string());
    }
  }
  return {};
}

}  // namespace openbatch::startup
