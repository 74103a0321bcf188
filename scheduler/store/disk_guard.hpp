// DiskGuard: watches the free space of the data directory's filesystem and keeps the reserve
// file there (disk_space.hpp says why and decides what to do; this class does the I/O).
//
// A thread of its own looks (statvfs, cheap) every `period` -- not per request -- and on
// demand: disk_full(), called when a SQLite write found no space, releases the reserve at
// once so the deletes and completion reports that follow can commit. low() is an atomic load
// for the API to consult on every write request.
//
// The reserve is a plain file, `.disk-reserve` in the data directory, allocated with
// posix_fallocate (real blocks, not a sparse file). It survives restarts; a scheduler
// started on a full disk finds it and releases it.
//
// Thread-safety: low(), space(), disk_full() and refusal() from any thread.
#pragma once

#include "common/error.hpp"
#include "scheduler/store/disk_space.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace openbatch::store {

inline constexpr const char* kReserveFile = ".disk-reserve";

class DiskGuard {
 public:
  // Looks once (creating the reserve when there is room), then starts the thread.
  DiskGuard(std::filesystem::path data_dir, std::chrono::milliseconds period);
  ~DiskGuard();  // stops the thread; the reserve file stays for the next start
  DiskGuard(const DiskGuard&) = delete;
  DiskGuard& operator=(const DiskGuard&) = delete;

  bool low() const { return low_->load(std::memory_order_acquire); }
  // The flag low() reads, for the store's WAL checkpointer (which checkpoints eagerly while
  // space is low).
  std::shared_ptr<const std::atomic<bool>> low_flag() const { return low_; }
  DiskSpace space() const;
  // A write found the disk full: release the reserve now and look again.
  void disk_full();
  // The 507 InsufficientDiskSpace error with the last numbers seen.
  Error refusal() const { return insufficient_disk_space(space()); }

 private:
  void loop();
  void look(bool force_release);

  const std::filesystem::path data_dir_;
  const std::filesystem::path reserve_path_;
  const std::chrono::milliseconds period_;
  std::shared_ptr<std::atomic<bool>> low_ = std::make_shared<std::atomic<bool>>(false);
  std::atomic<std::uint64_t> total_{0};
  std::atomic<std::uint64_t> available_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;       // guarded by mutex_
  bool force_release_ = false;  // guarded by mutex_
  DiskState state_;             // the thread's (and the constructor's) only
  std::thread thread_;          // started last
};

}  // namespace openbatch::store
