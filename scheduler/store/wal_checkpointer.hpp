// WalCheckpointer: copies the WAL back into the database file on a thread of its own.
//
// Why: SQLite's automatic checkpoint runs inside COMMIT on the connection that commits --
// here the single writer thread -- so every ~1,000 pages one group commit also copies the WAL
// into the main file and fsyncs it. That stalled the writer (tens of ms) and cost ~5% of its
// time (bench/RESULTS.md). Instead the writer's WAL hook (installed by attach(), which also
// turns the automatic checkpoint off) asks this thread for a PASSIVE checkpoint, which never
// blocks the writer or readers. Durability is unchanged: commits are durable in the WAL.
// If checkpoints cannot keep up (a long-lived reader pins the WAL), the hook falls back to a
// checkpoint on the writer once the WAL passes kWriterFallbackPages, so the WAL stays bounded.
//
// While disk space is low (the `disk_low` flag) the hook asks for a checkpoint once the WAL
// holds kLowDiskCheckpointPages, and the checkpoint is a TRUNCATE one: the WAL file shrinks
// back to zero bytes, so deletes and completion reports reuse the space they free instead of
// growing the WAL into the last free blocks (TRUNCATE briefly blocks the writer: fine then).
//
// Threading: request() is called from the writer thread (inside the WAL hook); the
// checkpoint runs on this object's thread on its own connection.
#pragma once

#include "scheduler/store/sqlite_connection.hpp"

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace openbatch::store {

class WalCheckpointer {
 public:
  static constexpr int kCheckpointPages = 4000;        // ~16 MB of WAL at 4 KiB pages
  static constexpr int kWriterFallbackPages = 250000;  // ~1 GB: checkpoint on the writer
  static constexpr int kLowDiskCheckpointPages = 16;   // 64 KiB while disk space is low

  // Opens its own connection to `path`; nullptr when that fails (the caller keeps SQLite's
  // automatic checkpoint then).
  // `disk_low` (may be null) switches to eager TRUNCATE checkpoints; `on_disk_full` is told
  // when a checkpoint found no space.
  static std::unique_ptr<WalCheckpointer> start(
      const std::string& path, bool synchronous_full,
      std::shared_ptr<const std::atomic<bool>> disk_low = nullptr,
      std::function<void()> on_disk_full = {});
  ~WalCheckpointer();  // stops and joins the thread
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Installs the WAL hook on the writer's connection (replacing the automatic checkpoint).
  void attach(sqlite3* writer);
  void request();
  uint64_t checkpoints_run() const;

 private:
  WalCheckpointer(std::unique_ptr<Connection> connection,
                  std::shared_ptr<const std::atomic<bool>> disk_low,
                  std::function<void()> on_disk_full);
  bool disk_low() const { return disk_low_ && disk_low_->load(std::memory_order_acquire); }
  void loop();
  static int on_wal_commit(void* self, sqlite3* db, const char* schema, int pages);

  std::unique_ptr<Connection> connection_;  // used by thread_ only
  const std::shared_ptr<const std::atomic<bool>> disk_low_;
  const std::function<void()> on_disk_full_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;  // guarded by mutex_
  bool stopping_ = false;   // guarded by mutex_
  uint64_t runs_ = 0;       // guarded by mutex_
  std::thread thread_;      // started last
};

}  // namespace openbatch::store
