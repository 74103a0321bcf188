// Journal: the agent's durable, append-only record of attempts and its report outbox
// (agent-protocol.md section 4), in <state-dir>/journal, one JSON record per line
// (journal_record.hpp).
//
// Durability is grouped: append() applies a record to the in-memory state and buffers its
// line; flush() writes every buffered line with one write(2) and one fdatasync(2). The agent
// calls flush() once per event-loop turn (GroupCommit), so a thousand assignments arriving
// together cost one fdatasync, not a thousand. Anything that must only happen once a record
// is durable (forking, sending a report, acking an assignment) waits for that flush.
//
// open() replays the file. A last line without its newline is a write torn by a crash and is
// cut off; any other unreadable line is an Error (500 CorruptJournal): starting anyway could
// run an attempt twice. The file is compacted (the live state rewritten to journal.tmp,
// fsync'ed and renamed over it) when open() is done and whenever a flush leaves it larger
// than the threshold and twice its size after the last compaction (so a live state near the
// threshold does not make every flush a compaction).
//
// Seqs: take_seq() hands out the agent's frame seqs. They must never repeat, even across a
// crash, so the journal durably reserves them in blocks ("seqs" records) before use.
//
// A full disk: the file keeps preallocated blocks past its end (JournalOptions), so appends
// keep working; a compaction that finds no room leaves the file as it is. Should the
// preallocated blocks run out too, flush() fails with "write ...: No space left on device".
//
// Thread-safety: none; one thread (the agent's event loop) owns a Journal.
#pragma once

#include "common/error.hpp"
#include "common/posix/unique_fd.hpp"
#include "node_agent/state/journal_record.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace openbatch::agent::state {

inline constexpr const char* kJournalFile = "journal";

struct JournalOptions {
  // A flush that leaves the file larger than this compacts it.
  std::uint64_t compact_threshold_bytes = 16ull << 20;
  // Seqs reserved by one "seqs" record.
  std::uint64_t seq_block = 4096;
  // Blocks kept allocated past the end of the file (fallocate KEEP_SIZE), so appends keep
  // working when a task fills the filesystem; renewed once half of it is used.
  std::uint64_t preallocate_bytes = 512ull << 10;
};

class Journal {
 public:
  // Opens (creating when missing) and replays `path`, then compacts it.
  [[nodiscard]] static Result<std::unique_ptr<Journal>> open(const std::filesystem::path& path,
                                                             JournalOptions options = {});

  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  const JournalState& state() const { return state_; }

  // Applies `record` to the state now; it becomes durable at the next flush().
  void append(const Record& record);

  // Writes and fdatasyncs everything appended since the last flush; a no-op when nothing
  // is pending. May compact afterwards. An Error leaves the journal unusable (the agent
  // exits: what it already acked is durable, the rest is recovered on restart).
  [[nodiscard]] Status flush();

  // Rewrites the file as the snapshot of the state. Flushes first.
  [[nodiscard]] Status compact();

  // The next frame seq. When it reaches the end of the durable reservation, a new block is
  // reserved and flushed before the seq is returned (one fdatasync per seq_block seqs).
  [[nodiscard]] Result<std::uint64_t> take_seq();

  bool dirty() const { return !pending_.empty(); }
  std::uint64_t sync_count() const { return syncs_; }
  std::uint64_t file_bytes() const { return file_bytes_; }
  std::uint64_t compactions() const { return compactions_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  Journal(std::filesystem::path path, JournalOptions options);
  [[nodiscard]] Status replay();
  [[nodiscard]] Status reopen_for_append();
  void preallocate();

  std::filesystem::path path_;
  JournalOptions options_;
  posix::UniqueFd fd_;
  JournalState state_;
  std::string pending_;  // lines appended since the last flush
  std::uint64_t file_bytes_ = 0;
  std::uint64_t syncs_ = 0;
  std::uint64_t compacted_bytes_ = 0;  // the file's size after the last compaction
  std::uint64_t compactions_ = 0;
  std::uint64_t preallocated_at_ = 0;  // the file's size at the last successful preallocation
};

}  // namespace openbatch::agent::state
