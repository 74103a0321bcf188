// DiskGuard: statvfs polling and the reserve file (see disk_guard.hpp).
#include "scheduler/store/disk_guard.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/statvfs.h>
#include <unistd.h>

namespace openbatch::store {
namespace {

std::optional<DiskSpace> statvfs_space(const std::filesystem::path& dir) {
  struct statvfs s {};
  if (::statvfs(dir.c_str(), &s) != 0) return std::nullopt;
  return DiskSpace{static_cast<std::uint64_t>(s.f_blocks) * s.f_frsize,
                   static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize};
}

// Allocates `bytes` of real blocks in `path`; false (and no file) when there is no room.
bool create_reserve(const std::filesystem::path& path, std::uint64_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    spdlog::warn("disk: cannot create the reserve file {}: {}", path.string(),
                 std::strerror(errno));
    return false;
  }
  const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  const bool synced = rc == 0 && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) {
    ::unlink(path.c_str());
    return false;
  }
  return true;
}

}  // namespace

DiskGuard::DiskGuard(std::filesystem::path data_dir, std::chrono::milliseconds period)
    : data_dir_(std::move(data_dir)), reserve_path_(data_dir_ / kReserveFile), period_(period) {
  std::error_code ec;
  state_.reserve_held =
      std::filesystem::is_regular_file(std::filesystem::symlink_status(reserve_path_, ec));
  look(false);
  thread_ = std::thread([this] { loop(); });
}

DiskGuard::~DiskGuard() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

DiskSpace DiskGuard::space() const {
  return {total_.load(std::memory_order_relaxed), available_.load(std::memory_order_relaxed)};
}

void DiskGuard::disk_full() {
  {
    std::lock_guard lock(mutex_);
    force_release_ = true;
  }
  wake_.notify_all();
}

void DiskGuard::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, period_, [this] { return stopping_ || force_release_; });
    if (stopping_) return;
    const bool force = force_release_;
    force_release_ = false;
    lock.unlock();  // no lock across I/O
    look(force);
    lock.lock();
  }
}

void DiskGuard::look(bool force_release) {
  auto space = statvfs_space(data_dir_);
  if (!space) {
    spdlog::warn("disk: statvfs {} failed: {}", data_dir_.string(), std::strerror(errno));
    return;
  }
  DiskDecision d = decide(*space, state_);
  if (force_release && state_.reserve_held) {
    d.release_reserve = true;
    d.create_reserve = false;
    d.next.reserve_held = false;
    d.next.low = true;
  }
  // Refuse growth before the reserve is freed, so no add slips into the room meant for deletes.
  if (d.next.low) low_->store(true, std::memory_order_release);
  if (d.release_reserve) {
    if (::unlink(reserve_path_.c_str()) != 0 && errno != ENOENT) {
      spdlog::error("disk: cannot release the reserve file {}: {}", reserve_path_.string(),
                    std::strerror(errno));
    } else {
      spdlog::warn(
          "disk: {} free of {} on {}: released the reserve file so deletes and "
          "completions can commit",
          format_bytes(space->available), format_bytes(space->total), data_dir_.string());
    }
    if (auto after = statvfs_space(data_dir_)) space = after;
  }
  if (d.create_reserve) {
    const std::uint64_t bytes = thresholds_for(space->total).reserve;
    if (create_reserve(reserve_path_, bytes)) {
      if (auto after = statvfs_space(data_dir_)) space = after;
    } else {
      d.next.reserve_held = false;
    }
  }
  if (d.next.low != state_.low) {
    if (d.next.low) {
      spdlog::warn("disk: low on space ({} free of {} on {}): refusing writes that add data",
                   format_bytes(space->available), format_bytes(space->total), data_dir_.string());
    } else {
      spdlog::info("disk: space is back ({} free of {}): accepting all writes again",
                   format_bytes(space->available), format_bytes(space->total));
    }
  }
  state_ = d.next;
  total_.store(space->total, std::memory_order_relaxed);
  available_.store(space->available, std::memory_order_relaxed);
  low_->store(state_.low, std::memory_order_release);
}

}  // namespace openbatch::store
