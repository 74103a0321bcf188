// Journal: append, group flush, replay and compaction (see journal.hpp).
#include "node_agent/state/journal.hpp"

#include "node_agent/state/atomic_file.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace openbatch::agent::state {

Journal::Journal(std::filesystem::path path, JournalOptions options)
    : path_(std::move(path)), options_(options) {}

Result<std::unique_ptr<Journal>> Journal::open(const std::filesystem::path& path,
                                               JournalOptions options) {
  std::unique_ptr<Journal> journal(new Journal(path, options));
  if (auto st = journal->replay(); !st) return st.error();
  // Seqs handed out before a crash may lie anywhere below the last reservation.
  journal->state_.next_seq = std::max(journal->state_.next_seq, journal->state_.reserved_upto);
  if (auto st = journal->compact(); !st) {
    // No room for the compacted copy (a full disk): keep appending to the file as it is.
    if (!journal->pending_.empty()) return st.error();
    spdlog::warn("journal: not compacted ({}); appending to it as it is", st.error().message);
    if (auto reopened = journal->reopen_for_append(); !reopened) return reopened.error();
  }
  return journal;
}

Status Journal::replay() {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) return {};
  std::ifstream in(path_, std::ios::binary);
  if (!in) return state_write_error("open", path_, errno);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::size_t start = 0;
  std::size_t line_number = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // torn tail: dropped by the compaction that follows
    ++line_number;
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    Result<Record> record = parse_record(line);
    if (!record) {
      return Error(
          500, "CorruptJournal",
          path_.string() + " line " + std::to_string(line_number) + ": " + record.error().message);
    }
    apply_record(state_, *record);
  }
  return {};
}

void Journal::append(const Record& record) {
  apply_record(state_, record);
  pending_ += format_record(record);
  pending_ += '\n';
}

Status Journal::reopen_for_append() {
  fd_ = posix::UniqueFd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (fd_.get() < 0) return state_write_error("open", path_, errno);
  preallocate();
  return {};
}

void Journal::preallocate() {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return;
  // Blocks past the end, the size unchanged: appends land in them without allocating. Best
  // effort: on a full disk this fails and the headroom left from before is what there is.
  if (::fallocate(fd_.get(), FALLOC_FL_KEEP_SIZE, st.st_size,
                  static_cast<off_t>(options_.preallocate_bytes)) == 0) {
    preallocated_at_ = static_cast<std::uint64_t>(st.st_size);
  }
}

Status Journal::flush() {
  if (pending_.empty()) return {};
  if (fd_.get() < 0) {
    if (auto st = reopen_for_append(); !st) return st;
  }
  if (auto st = write_all(fd_.get(), pending_, path_); !st) return st;
  if (::fdatasync(fd_.get()) != 0) return state_write_error("fdatasync", path_, errno);
  ++syncs_;
  file_bytes_ += pending_.size();
  pending_.clear();
  if (file_bytes_ > std::max(options_.compact_threshold_bytes, 2 * compacted_bytes_)) {
    if (auto st = compact(); !st) {
      // The copy found no room (a full disk): the old file is whole; keep appending to it.
      spdlog::warn("journal: compaction failed ({}); appending to the file as it is",
                   st.error().message);
      compacted_bytes_ = file_bytes_;  // not again at every flush
      if (fd_.get() < 0) return reopen_for_append();
    }
    return {};
  }
  if (file_bytes_ >= preallocated_at_ + options_.preallocate_bytes / 2) preallocate();
  return {};
}

Status Journal::compact() {
  // The snapshot must describe only durable state plus what it writes itself, so the
  // pending lines go to the old file first; they are in state_ either way.
  if (!pending_.empty()) {
    if (fd_.get() < 0) {
      if (auto st = reopen_for_append(); !st) return st;
    }
    if (auto st = write_all(fd_.get(), pending_, path_); !st) return st;
    pending_.clear();
  }
  std::string text;
  for (const Record& r : snapshot_records(state_)) {
    text += format_record(r);
    text += '\n';
  }
  fd_.reset();
  if (auto st = write_file_atomically(path_, text, 0600); !st) return st;
  ++syncs_;
  ++compactions_;
  file_bytes_ = text.size();
  compacted_bytes_ = text.size();
  return reopen_for_append();
}

Result<std::uint64_t> Journal::take_seq() {
  if (state_.next_seq >= state_.reserved_upto) {
    append(SeqReserveRecord{state_.next_seq + options_.seq_block});
    if (auto st = flush(); !st) return st.error();
  }
  return state_.next_seq++;
}

}  // namespace openbatch::agent::state
