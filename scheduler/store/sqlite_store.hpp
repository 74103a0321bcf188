// SqliteStore: the SQLite implementation of store::Store -- one writer thread doing group
// commit on the write connection, and a pool of read-only connections for Readers.
// README.md here explains the group commit design.
//
// Threading: submit(), reader(), stats() and close() are safe from any thread. WriteOps and
// WriteDone callbacks run on the writer thread; they should hand slow work elsewhere (the
// next group waits) and must not destroy the store (the writer cannot join itself; close()
// from there only stops intake, and a later close() or the destructor finishes it).
#pragma once

#include "common/error.hpp"
#include "scheduler/store/reader_pool.hpp"
#include "scheduler/store/record_queries.hpp"
#include "scheduler/store/sqlite_connection.hpp"
#include "scheduler/store/store.hpp"
#include "scheduler/store/wal_checkpointer.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace openbatch::store {

// Counters of the writer since open; each read is a consistent-enough snapshot for tests and
// metrics (the fields are read one by one).
struct WriterStats {
  uint64_t groups_committed = 0;  // transactions that committed
  uint64_t ops_committed = 0;     // ops in committed groups (whether they returned true or not)
  uint64_t ops_rolled_back = 0;   // ops of committed groups whose own changes were undone
  uint64_t groups_failed = 0;     // transactions that could not begin or commit
  uint64_t largest_group = 0;     // most ops seen in one group
  uint64_t background_checkpoints = 0;  // WAL checkpoints run off the writer thread
};

// How the store takes part in disk-space handling (disk_guard.hpp); both optional.
struct DiskHooks {
  // Called (on the writer or checkpoint thread) when a write or checkpoint found the disk
  // full; the DiskGuard releases its reserve file there.
  std::function<void()> on_disk_full = {};
  // True while disk space is low: the WAL is then checkpointed and truncated after every few
  // commits, so it gives its space back instead of growing (wal_checkpointer.hpp).
  std::shared_ptr<const std::atomic<bool>> disk_low = nullptr;
};

class SqliteStore final : public Store {
 public:
  // Opens, migrates and starts the writer thread.
  static Result<std::unique_ptr<SqliteStore>> open(const SqliteOptions& options,
                                                   DiskHooks hooks = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  void submit(WriteOp op, WriteDone done) override;
  void set_change_observer(ChangeObserver observer) override;
  std::unique_ptr<Reader> reader() override;
  void close() override;

  WriterStats stats() const;

 private:
  struct Pending {
    WriteOp op;
    WriteDone done;
  };
  // What became of one op inside its group.
  struct OpOutcome {
    bool kept = false;           // its changes are part of the group
    std::optional<Error> error;  // it threw or hit a SQLite error (rolled back)
  };

  SqliteStore(const SqliteOptions& options, DiskHooks hooks, std::unique_ptr<Connection> writer);

  void writer_loop();
  void run_group(std::vector<Pending>& group);
  // Runs one op inside its savepoint. False when the whole transaction is lost (the group
  // must then fail), e.g. SQLite rolled it back itself after an I/O error.
  bool run_op(Pending& pending, OpOutcome& outcome, std::vector<Change>& changes);
  Status run_control(Control which);
  void fail_group(std::vector<Pending>& group, const Error& error);
  void note_disk_full(const Error& error) const;  // tells hooks_.on_disk_full
  static void call_done(const WriteDone& done, const Status& status);

  const SqliteOptions options_;
  const DiskHooks hooks_;
  std::unique_ptr<Connection> write_connection_;  // writer thread only (and close() after join)
  ConnectionWriter writer_;                       // on write_connection_, writer thread only
  std::shared_ptr<ReaderPool> readers_;
  std::unique_ptr<WalCheckpointer> checkpointer_;   // stopped before write_connection_ closes
  std::shared_ptr<const ChangeObserver> observer_;  // guarded by mutex_; copied per group

  std::mutex mutex_;
  std::condition_variable wake_;
  // Guarded by mutex_:
  std::deque<Pending> queue_;
  bool stopping_ = false;

  std::mutex close_mutex_;  // serialises close(); held while joining
  bool closed_ = false;     // guarded by close_mutex_

  std::atomic<uint64_t> groups_committed_{0};
  std::atomic<uint64_t> ops_committed_{0};
  std::atomic<uint64_t> ops_rolled_back_{0};
  std::atomic<uint64_t> groups_failed_{0};
  std::atomic<uint64_t> largest_group_{0};

  std::thread thread_;  // started last, after every member above exists
};

}  // namespace openbatch::store
