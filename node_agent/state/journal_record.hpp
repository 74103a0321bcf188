// The records of the agent's durable journal (<state-dir>/journal) and the in-memory state
// they replay into. One record is one line of JSON, {"r": KIND, ...}:
//
//   {"r":"accepted","a":ID,"job":J,"task":T,"slots":N}   an assignment is known; written and
//                                     fdatasync'ed before the attempt may fork (spec 4.1)
//   {"r":"started","a":ID,"pid":P,"pgid":G,"start":TIME,"boot":BOOT_ID}   the process exists
//   {"r":"report","seq":S,"report":{...protocol report...}}   queued in the outbox (spec 4.2)
//   {"r":"acked","seqs":[S...]}        the scheduler acked these reports
//   {"r":"abandoned","a":ID}            never completed here (crash or shutdown): not reported
//   {"r":"seqs","upto":S}               seqs below S may have been sent: never reuse them
//   {"r":"retired","a":[ID...]}         finished attempts remembered (compaction only)
//
// apply_record() is the only way state changes, both while running and when replaying, so a replay
// rebuilds exactly what the agent had in memory. Pure; thread-safety: plain values.
#pragma once

#include "common/error.hpp"
#include "common/protocol/agent_protocol.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace openbatch::agent::state {

// How many finished attempt ids the state remembers (so a late duplicate assignment is acked,
// not run). The scheduler never resends an attempt whose completed report it acked, so this
// only needs to cover frames in flight; beyond it the oldest are forgotten.
inline constexpr std::size_t kMaxRetiredAttempts = 65536;

struct AcceptedRecord {
  std::string attempt_id;
  std::string job_id;
  std::string task_id;
  int required_slots = 1;
};

struct StartedRecord {
  std::string attempt_id;
  pid_t pid = 0;
  pid_t pgid = 0;
  std::string start_time;  // RFC 3339
  std::string boot_id;     // /proc/sys/kernel/random/boot_id: pids mean nothing after a reboot
};

struct ReportRecord {
  std::uint64_t seq = 0;
  protocol::Report report;
};

struct AckedRecord {
  std::vector<std::uint64_t> seqs;
};

struct AbandonedRecord {
  std::string attempt_id;
};

struct SeqReserveRecord {
  std::uint64_t upto = 0;
};

struct RetiredRecord {
  std::vector<std::string> attempt_ids;
};

using Record = std::variant<AcceptedRecord, StartedRecord, ReportRecord, AckedRecord,
                            AbandonedRecord, SeqReserveRecord, RetiredRecord>;

// An attempt the journal knows and has not retired.
struct AttemptRecord {
  std::string job_id;
  std::string task_id;
  int required_slots = 1;
  std::optional<pid_t> pid;
  std::optional<pid_t> pgid;
  std::string start_time;
  std::string boot_id;
  bool completed = false;  // a completed report is in the outbox (not yet acked)
};

struct JournalState {
  // The next seq to use: above every report seq and every reservation.
  std::uint64_t next_seq = 1;
  // Seqs below this may have been sent (a durable reservation covers them).
  std::uint64_t reserved_upto = 1;
  // Attempts accepted and not retired, by attempt id.
  std::unordered_map<std::string, AttemptRecord> attempts;
  // The outbox: reports not yet acked, by seq (ascending = the order they were queued).
  std::map<std::uint64_t, protocol::Report> outbox;
  // Finished attempts still remembered, oldest first, and the same ids as a set.
  std::deque<std::string> retired;
  std::unordered_set<std::string> retired_set;

  // True when the attempt id was ever recorded (and not forgotten): it must not start again.
  bool knows(const std::string& attempt_id) const {
    return attempts.contains(attempt_id) || retired_set.contains(attempt_id);
  }
};

// Applies one record to the state.
void apply_record(JournalState& state, const Record& record);

// One journal line (without the newline) and back. parse_record is an Error (500
// "CorruptJournal") for a line that is not a record.
std::string format_record(const Record& record);
[[nodiscard]] Result<Record> parse_record(std::string_view line);

// The records that rebuild `state` from nothing (compaction writes these).
std::vector<Record> snapshot_records(const JournalState& state);

}  // namespace openbatch::agent::state
