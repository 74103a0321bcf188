// Store: the scheduler's durable state (pools, jobs, tasks, nodes, applications).
//
// The store keeps each entity as a Record: its id (case preserved), the id of its parent
// (the job of a task, the pool of a node), an indexed `state`, and `body`, the entity's wire
// JSON text. Ids are unique and looked up case-insensitively within (table, parent).
//
// Writes go through submit(): every WriteOp queued while the previous commit was in flight is
// run by the single writer thread inside ONE transaction (group commit: one fsync for many
// requests). Each op runs inside its own SAVEPOINT; an op that returns false (or throws) has
// its own changes rolled back without affecting the others in the group. After COMMIT (which
// is durable: WAL + synchronous=FULL) `done(Status)` is called on the writer thread for every
// op of the group -- never before the data is on disk. If the commit fails, every op of the
// group gets a failed Status and none of their changes persist.
//
// Reads use reader() -- a connection of their own, seeing the last committed state. A Reader
// is not thread-safe; use one per thread/request and drop it when done.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::store {

// Credentials holds token digests (pool join tokens, node tokens): never served by the API.
// TaskFailures marks each completed task that failed (parent = job, id = task), so a job's
// failed count is an index count of its failures, never a scan of its completed tasks.
// Subtasks holds one row per instance of a multi-instance task (subtask_rows.hpp).
enum class Table { Pools, Jobs, Tasks, Nodes, Applications, Credentials, TaskFailures, Subtasks };

struct Record {
  std::string id;      // as the client spelled it
  std::string parent;  // owning id: job of a task, pool of a node; "" for top-level entities
  std::string state;   // the entity's state (indexed): "active", "completed", ...
  std::string body;    // the entity's JSON text
  int64_t seq = 0;     // assigned by the store on insert: insertion order, unique per table
  // `body` already parsed, when the writer of the record had it (an API route that built the
  // entity): the change feed hands it on so the engine does not parse the body again. Never
  // stored; null on every record read from the store. Whoever changes `body` resets it.
  std::shared_ptr<const nlohmann::json> entity{};
};

// One page of a table (optionally one parent, optionally one state), ordered by seq.
struct ListQuery {
  Table table = Table::Pools;
  std::optional<std::string> parent;  // nullopt: all parents
  std::optional<std::string> state;   // nullopt: all states (compared case-insensitively)
  int64_t after_seq = 0;              // keyset paging: only records with seq > after_seq
  std::size_t limit = 1000;
};

class Reader {
 public:
  virtual ~Reader() = default;
  virtual std::optional<Record> get(Table table, std::string_view parent, std::string_view id) = 0;
  virtual std::vector<Record> list(const ListQuery& query) = 0;
  // Number of records in (table, parent), optionally only those in `state`.
  virtual int64_t count(Table table, std::optional<std::string_view> parent,
                        std::optional<std::string_view> state) = 0;
};

// The writer's view inside a group transaction. Reads see the group's uncommitted changes.
class Writer : public Reader {
 public:
  // Inserts `record` and sets record.seq. Returns false (and writes nothing) when
  // (table, parent, id) already exists, compared case-insensitively.
  virtual bool insert(Table table, Record& record) = 0;
  // Replaces state and body of the record with the same (table, parent, id). False if absent.
  virtual bool update(Table table, const Record& record) = 0;
  // Deletes one record. False if absent.
  virtual bool erase(Table table, std::string_view parent, std::string_view id) = 0;
  // Deletes up to `limit` records whose parent is `parent`; returns how many went.
  virtual std::size_t erase_children(Table table, std::string_view parent, std::size_t limit) = 0;
};

// Runs on the writer thread inside the group transaction. Return false to roll back this
// op's own changes (e.g. a validation conflict found under the transaction).
using WriteOp = std::function<bool(Writer&)>;
// Called on the writer thread once the group is durable (ok) or has failed.
using WriteDone = std::function<void(const Status&)>;

// One committed change, as the change feed delivers it. An Upsert carries the record as written
// (seq is set for inserts and 0 for updates); an Erase names the record; an EraseChildren names
// the parent whose children (some or all) went, as erase_children() removes them unnamed.
struct Change {
  enum class Kind { Upsert, Erase, EraseChildren };
  Kind kind = Kind::Upsert;
  Table table = Table::Pools;
  Record record;  // Erase: id and parent only; EraseChildren: parent only
};

// Receives the changes of each committed group, in commit order, on the writer thread before
// the group's done callbacks run. It must be quick (hand the work to another executor).
using ChangeObserver = std::function<void(std::vector<Change>&& changes)>;

class Store {
 public:
  virtual ~Store() = default;
  virtual void submit(WriteOp op, WriteDone done) = 0;
  // Installs the change feed observer (one; a later call replaces it). Set it before the first
  // write whose changes matter; changes committed earlier are not replayed.
  virtual void set_change_observer(ChangeObserver observer) = 0;
  virtual std::unique_ptr<Reader> reader() = 0;
  // Stops accepting writes, finishes the queued ones, and closes. Idempotent.
  virtual void close() = 0;
};

struct SqliteOptions {
  std::string path;                  // database file; its directory must exist
  bool synchronous_full = true;      // synchronous=FULL (durable across power loss) vs NORMAL
  std::size_t max_group_ops = 4096;  // cap on ops per group transaction
};

// Opens (creating and migrating as needed) the SQLite store.
Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options);

}  // namespace openbatch::store
