#include "scheduler/store/wal_checkpointer.hpp"

#include "scheduler/store/disk_space.hpp"

#include <spdlog/spdlog.h>

namespace openbatch::store {

std::unique_ptr<WalCheckpointer> WalCheckpointer::start(
    const std::string& path, bool synchronous_full,
    std::shared_ptr<const std::atomic<bool>> disk_low, std::function<void()> on_disk_full) {
  auto connection = Connection::open(
      path, {.read_only = false, .synchronous_full = synchronous_full, .cache_kib = 1024});
  if (!connection) {
    spdlog::warn("store: no checkpoint connection ({}); SQLite will checkpoint on commit",
                 connection.error().message);
    return nullptr;
  }
  return std::unique_ptr<WalCheckpointer>(
      new WalCheckpointer(std::move(*connection), std::move(disk_low), std::move(on_disk_full)));
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<Connection> connection,
                                 std::shared_ptr<const std::atomic<bool>> disk_low,
                                 std::function<void()> on_disk_full)
    : connection_(std::move(connection)),
      disk_low_(std::move(disk_low)),
      on_disk_full_(std::move(on_disk_full)),
      thread_([this] { loop(); }) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void WalCheckpointer::attach(sqlite3* writer) {
  sqlite3_wal_hook(writer, &WalCheckpointer::on_wal_commit, this);
}

int WalCheckpointer::on_wal_commit(void* self, sqlite3* db, const char* schema, int pages) {
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  if (pages >= kWriterFallbackPages) {
    // The background checkpoints are not keeping the WAL bounded: do one here.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= kCheckpointPages ||
             (pages >= kLowDiskCheckpointPages && checkpointer->disk_low())) {
    checkpointer->request();
  }
  return SQLITE_OK;
}

void WalCheckpointer::request() {
  {
    std::lock_guard lock(mutex_);
    requested_ = true;
  }
  wake_.notify_one();
}

uint64_t WalCheckpointer::checkpoints_run() const {
  std::lock_guard lock(mutex_);
  return runs_;
}

void WalCheckpointer::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    lock.unlock();  // never hold the mutex across I/O
    int log_pages = 0;
    int copied = 0;
    const int mode = disk_low() ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE;
    const int rc =
        sqlite3_wal_checkpoint_v2(connection_->handle(), nullptr, mode, &log_pages, &copied);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      spdlog::warn("store: background checkpoint failed: {}", sqlite3_errstr(rc));
      if (is_disk_full(sqlite3_extended_errcode(connection_->handle()),
                       sqlite3_system_errno(connection_->handle())) &&
          on_disk_full_) {
        on_disk_full_();
      }
    }
    lock.lock();
    ++runs_;
  }
}

}  // namespace openbatch::store
