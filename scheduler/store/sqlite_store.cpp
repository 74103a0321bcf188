// SqliteStore: the writer thread's group commit loop, submit/close, and open_sqlite_store().
#include "scheduler/store/sqlite_store.hpp"

#include "scheduler/store/disk_space.hpp"
#include "scheduler/store/schema.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>

namespace openbatch::store {
namespace {

// Page cache bounds (KiB). With the file at a million tasks the process must stay under
// ~200 MB RSS: the writer gets the larger cache (it walks the indexes on every insert), each
// read connection a small one, and at most kMaxIdleReaders idle ones are kept.
constexpr int kWriterCacheKib = 32 * 1024;
constexpr int kReaderCacheKib = 4 * 1024;
constexpr std::size_t kMaxIdleReaders = 8;

void update_max(std::atomic<uint64_t>& target, uint64_t value) {
  if (value > target.load(std::memory_order_relaxed)) {
    target.store(value, std::memory_order_relaxed);  // single writer thread: no race to lose
  }
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const SqliteOptions& options,
                                                       DiskHooks hooks) {
  if (options.path.empty()) return errors::internal("the store database path is empty");
  auto connection = Connection::open(options.path, {.read_only = false,
                                                    .synchronous_full = options.synchronous_full,
                                                    .cache_kib = kWriterCacheKib});
  if (!connection) return connection.error();
  if (auto st = migrate(**connection); !st) return st.error();
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(options, std::move(hooks), std::move(*connection)));
}

SqliteStore::SqliteStore(const SqliteOptions& options, DiskHooks hooks,
                         std::unique_ptr<Connection> writer)
    : options_(options),
      hooks_(std::move(hooks)),
      write_connection_(std::move(writer)),
      writer_(*write_connection_),
      readers_(std::make_shared<ReaderPool>(options.path, kMaxIdleReaders, kReaderCacheKib)),
      checkpointer_(WalCheckpointer::start(options.path, options.synchronous_full, hooks_.disk_low,
                                           hooks_.on_disk_full)) {
  if (checkpointer_) checkpointer_->attach(write_connection_->handle());
  thread_ = std::thread([this] { writer_loop(); });
}

SqliteStore::~SqliteStore() { close(); }

void SqliteStore::submit(WriteOp op, WriteDone done) {
  std::unique_lock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    call_done(done, Error(503, "ServerBusy", "The store is closed and no longer accepts writes."));
    return;
  }
  queue_.push_back(Pending{std::move(op), std::move(done)});
  lock.unlock();
  wake_.notify_one();
}

void SqliteStore::set_change_observer(ChangeObserver observer) {
  std::lock_guard lock(mutex_);
  observer_ = observer ? std::make_shared<const ChangeObserver>(std::move(observer)) : nullptr;
}

std::unique_ptr<Reader> SqliteStore::reader() { return readers_->acquire(); }

void SqliteStore::close() {
  std::lock_guard close_lock(close_mutex_);
  if (closed_) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (std::this_thread::get_id() == thread_.get_id()) {
    // From a done callback: the writer drains and exits on its own; a later close() (the
    // destructor) joins it.
    spdlog::warn("store: close() called on the writer thread; finishing it later");
    return;
  }
  thread_.join();
  closed_ = true;
  if (checkpointer_) {
    sqlite3_wal_hook(write_connection_->handle(), nullptr, nullptr);
    checkpointer_.reset();
  }
  readers_->close();  // idle readers first, so the checkpoint can reset the WAL
  if (auto st = write_connection_->exec("PRAGMA wal_checkpoint(TRUNCATE)"); !st) {
    spdlog::warn("store: final checkpoint failed: {}", st.error().message);
  }
  write_connection_.reset();
}

WriterStats SqliteStore::stats() const {
  WriterStats s;
  s.groups_committed = groups_committed_.load(std::memory_order_acquire);
  s.ops_committed = ops_committed_.load(std::memory_order_acquire);
  s.ops_rolled_back = ops_rolled_back_.load(std::memory_order_acquire);
  s.groups_failed = groups_failed_.load(std::memory_order_acquire);
  s.largest_group = largest_group_.load(std::memory_order_acquire);
  s.background_checkpoints = checkpointer_ ? checkpointer_->checkpoints_run() : 0;
  return s;
}

// Takes everything queued (up to max_group_ops) as one group. While the group's COMMIT and
// fsync run, new submits pile up in queue_ and become the next group.
void SqliteStore::writer_loop() {
  const std::size_t cap = std::max<std::size_t>(1, options_.max_group_ops);
  std::vector<Pending> group;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has been run
      const std::size_t n = std::min(cap, queue_.size());
      for (std::size_t i = 0; i < n; ++i) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    run_group(group);
    group.clear();
  }
}

void SqliteStore::run_group(std::vector<Pending>& group) {
  std::shared_ptr<const ChangeObserver> observer;
  {
    std::lock_guard lock(mutex_);
    observer = observer_;
  }
  writer_.record_changes(observer != nullptr);
  std::vector<Change> changes;
  if (auto st = run_control(Control::Begin); !st) {
    fail_group(group, st.error());
    return;
  }
  std::vector<OpOutcome> outcomes(group.size());
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!run_op(group[i], outcomes[i], changes)) {
      if (sqlite3_get_autocommit(write_connection_->handle()) == 0) {
        (void)run_control(Control::Rollback);
      }
      fail_group(group, *outcomes[i].error);
      return;
    }
  }
  if (auto st = run_control(Control::Commit); !st) {
    // A failed COMMIT may leave the transaction open (SQLITE_BUSY) or already rolled back.
    if (sqlite3_get_autocommit(write_connection_->handle()) == 0) {
      (void)run_control(Control::Rollback);
    }
    fail_group(group, st.error());
    return;
  }
  const auto rolled_back = static_cast<uint64_t>(
      std::count_if(outcomes.begin(), outcomes.end(), [](const OpOutcome& o) { return !o.kept; }));
  groups_committed_.fetch_add(1, std::memory_order_release);
  ops_committed_.fetch_add(group.size(), std::memory_order_release);
  ops_rolled_back_.fetch_add(rolled_back, std::memory_order_release);
  update_max(largest_group_, group.size());
  if (observer && !changes.empty()) {
    try {
      (*observer)(std::move(changes));
    } catch (const std::exception& e) {
      spdlog::error("store: the change observer threw: {}", e.what());
    }
  }
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (outcomes[i].error) note_disk_full(*outcomes[i].error);
    call_done(group[i].done, outcomes[i].error ? Status(*outcomes[i].error) : Status());
  }
}

bool SqliteStore::run_op(Pending& pending, OpOutcome& outcome, std::vector<Change>& changes) {
  writer_.drop_changes();  // left over from an op of a failed group
  if (auto st = run_control(Control::Savepoint); !st) {
    outcome.error = st.error();
    return false;
  }
  bool ok = false;
  try {
    ok = pending.op(writer_);
  } catch (const std::exception& e) {
    spdlog::error("store: a write op threw, rolling it back: {}", e.what());
    outcome.error = errors::internal(std::string("the write operation failed: ") + e.what());
  } catch (...) {
    spdlog::error("store: a write op threw a non-standard exception, rolling it back");
    outcome.error = errors::internal("the write operation failed with an unknown exception");
  }
  if (auto failure = writer_.take_failure(); failure && !outcome.error) {
    outcome.error = std::move(failure);
  }
  if (sqlite3_get_autocommit(write_connection_->handle()) != 0) {
    // SQLite rolled the whole transaction back (I/O error, disk full): earlier ops are gone too.
    if (!outcome.error) outcome.error = errors::internal("the store transaction was rolled back");
    return false;
  }
  outcome.kept = ok && !outcome.error;
  if (outcome.kept) {
    auto op_changes = writer_.take_changes();
    if (changes.empty()) {
      changes = std::move(op_changes);
    } else {
      changes.insert(changes.end(), std::make_move_iterator(op_changes.begin()),
                     std::make_move_iterator(op_changes.end()));
    }
  } else {
    writer_.drop_changes();
  }
  if (!outcome.kept) {
    if (auto st = run_control(Control::RollbackToSavepoint); !st) {
      outcome.error = st.error();
      return false;
    }
  }
  if (auto st = run_control(Control::Release); !st) {
    outcome.error = st.error();
    return false;
  }
  return true;
}

Status SqliteStore::run_control(Control which) {
  auto stmt = write_connection_->control(which);
  if (!stmt) return stmt.error();
  StatementScope scope(*stmt);
  if (sqlite3_step(*stmt) != SQLITE_DONE) return write_connection_->error(sqlite3_sql(*stmt));
  return {};
}

void SqliteStore::note_disk_full(const Error& error) const {
  if (is_insufficient_disk_space(error) && hooks_.on_disk_full) hooks_.on_disk_full();
}

void SqliteStore::fail_group(std::vector<Pending>& group, const Error& error) {
  groups_failed_.fetch_add(1, std::memory_order_release);
  note_disk_full(error);
  spdlog::error("store: a group of {} writes failed: {}", group.size(), error.message);
  for (auto& pending : group) call_done(pending.done, error);
}

void SqliteStore::call_done(const WriteDone& done, const Status& status) {
  if (!done) return;
  try {
    done(status);
  } catch (const std::exception& e) {
    spdlog::error("store: a write completion threw: {}", e.what());
  } catch (...) {
    spdlog::error("store: a write completion threw a non-standard exception");
  }
}

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  auto store = SqliteStore::open(options);
  if (!store) return store.error();
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace openbatch::store
