// UserCache: lookup_user with memory. Resolving a user costs ~80 syscalls and ~40 us of CPU
// (getgrouplist walks every NSS source: libnss_systemd opens /run/systemd/userdb), and the
// agent resolves the same one or two users for every task. So each name is resolved once and
// kept until /etc/passwd or /etc/group changes: their identity (device, inode, size, mtime,
// ctime) is checked at most once per `check_interval`, and any change drops every entry.
// Failures are never cached (a user created meanwhile is found at once).
//
// Staleness: a change made only in a non-file NSS source (LDAP, a systemd dynamic user) is not
// seen until one of the files changes or the agent restarts.
//
// Thread-safe: a mutex guards the entries; the resolver runs outside it.
#pragma once

#include "common/error.hpp"
#include "node_agent/exec/user.hpp"

#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <unordered_map>
#include <vector>

namespace openbatch::agent::exec {

class UserCache {
 public:
  using Resolver = std::function<Result<UserIds>(std::string_view name)>;

  explicit UserCache(Resolver resolve = lookup_user,
                     std::vector<std::filesystem::path> watched = {"/etc/passwd", "/etc/group"},
                     std::chrono::milliseconds check_interval = std::chrono::seconds(1));

  [[nodiscard]] Result<UserIds> lookup(std::string_view name);

 private:
  // What stat says about one watched file; all zero when it is missing.
  struct FileStamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    timespec ctime{};
    bool operator==(const FileStamp& o) const;
  };
  std::vector<FileStamp> stamps() const;
  // Drops every entry when a watched file changed; at most once per check_interval.
  void check_files_locked();

  Resolver resolve_;
  std::vector<std::filesystem::path> watched_;
  std::chrono::milliseconds check_interval_;
  std::mutex mutex_;
  std::vector<FileStamp> stamps_;
  std::chrono::steady_clock::time_point checked_at_{};
  std::uint64_t generation_ = 0;  // bumped whenever the entries are dropped
  std::unordered_map<std::string, UserIds> users_;
};

}  // namespace openbatch::agent::exec
