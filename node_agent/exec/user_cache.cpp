// UserCache: resolved users kept until /etc/passwd or /etc/group changes (see user_cache.hpp).
#include "node_agent/exec/user_cache.hpp"

#include <sys/stat.h>
#include <utility>

namespace openbatch::agent::exec {

bool UserCache::FileStamp::operator==(const FileStamp& o) const {
  return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
         mtime.tv_nsec == o.mtime.tv_nsec && ctime.tv_sec == o.ctime.tv_sec &&
         ctime.tv_nsec == o.ctime.tv_nsec;
}

UserCache::UserCache(Resolver resolve, std::vector<std::filesystem::path> watched,
                     std::chrono::milliseconds check_interval)
    : resolve_(std::move(resolve)), watched_(std::move(watched)), check_interval_(check_interval) {}

std::vector<UserCache::FileStamp> UserCache::stamps() const {
  std::vector<FileStamp> out(watched_.size());
  for (std::size_t i = 0; i < watched_.size(); ++i) {
    struct stat st {};
    if (::stat(watched_[i].c_str(), &st) != 0) continue;  // missing: the zero stamp
    out[i] = FileStamp{st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
  }
  return out;
}

void UserCache::check_files_locked() {
  const auto now = std::chrono::steady_clock::now();
  if (!stamps_.empty() && now - checked_at_ < check_interval_) return;
  checked_at_ = now;
  auto current = stamps();
  if (current != stamps_) {
    users_.clear();
    ++generation_;
    stamps_ = std::move(current);
  }
}

Result<UserIds> UserCache::lookup(std::string_view name) {
  const std::string key(name);
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    check_files_locked();
    if (auto it = users_.find(key); it != users_.end()) return it->second;
    generation = generation_;
  }
  auto ids = resolve_(name);
  if (!ids) return ids;
  std::lock_guard lock(mutex_);
  // Another thread saw the files change while this one resolved: the answer may be stale.
  if (generation == generation_) users_.insert_or_assign(key, *ids);
  return ids;
}

}  // namespace openbatch::agent::exec
