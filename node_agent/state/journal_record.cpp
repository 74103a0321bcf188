// Journal records: JSON lines and their effect on JournalState (see journal_record.hpp).
#include "node_agent/state/journal_record.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <exception>
#include <utility>

namespace openbatch::agent::state {
namespace {

using json = nlohmann::json;

void retire(JournalState& s, const std::string& attempt_id) {
  s.attempts.erase(attempt_id);
  if (!s.retired_set.insert(attempt_id).second) return;
  s.retired.push_back(attempt_id);
  while (s.retired.size() > kMaxRetiredAttempts) {
    s.retired_set.erase(s.retired.front());
    s.retired.pop_front();
  }
}

struct Applier {
  JournalState& s;

  void operator()(const AcceptedRecord& r) const {
    if (s.knows(r.attempt_id)) return;
    AttemptRecord& a = s.attempts[r.attempt_id];
    a.job_id = r.job_id;
    a.task_id = r.task_id;
    a.required_slots = r.required_slots;
  }
  void operator()(const StartedRecord& r) const {
    auto it = s.attempts.find(r.attempt_id);
    if (it == s.attempts.end()) return;
    it->second.pid = r.pid;
    it->second.pgid = r.pgid;
    it->second.start_time = r.start_time;
    it->second.boot_id = r.boot_id;
  }
  void operator()(const ReportRecord& r) const {
    s.outbox[r.seq] = r.report;
    s.next_seq = std::max(s.next_seq, r.seq + 1);
    if (r.report.state != protocol::AttemptState::Completed) return;
    auto it = s.attempts.find(r.report.attempt_id);
    if (it != s.attempts.end()) it->second.completed = true;
  }
  void operator()(const AckedRecord& r) const {
    for (std::uint64_t seq : r.seqs) {
      auto it = s.outbox.find(seq);
      if (it == s.outbox.end()) continue;
      const bool completed = it->second.state == protocol::AttemptState::Completed;
      std::string attempt_id = it->second.attempt_id;
      s.outbox.erase(it);
      if (completed) retire(s, attempt_id);
    }
  }
  void operator()(const AbandonedRecord& r) const { retire(s, r.attempt_id); }
  void operator()(const SeqReserveRecord& r) const {
    s.reserved_upto = std::max(s.reserved_upto, r.upto);
  }
  void operator()(const RetiredRecord& r) const {
    for (const auto& id : r.attempt_ids) retire(s, id);
  }
};

struct Formatter {
  json operator()(const AcceptedRecord& r) const {
    return {{"r", "accepted"},
            {"a", r.attempt_id},
            {"job", r.job_id},
            {"task", r.task_id},
            {"slots", r.required_slots}};
  }
  json operator()(const StartedRecord& r) const {
    return {{"r", "started"}, {"a", r.attempt_id},     {"pid", r.pid},
            {"pgid", r.pgid}, {"start", r.start_time}, {"boot", r.boot_id}};
  }
  json operator()(const ReportRecord& r) const {
    json report;
    protocol::to_json(report, r.report);
    return {{"r", "report"}, {"seq", r.seq}, {"report", std::move(report)}};
  }
  json operator()(const AckedRecord& r) const { return {{"r", "acked"}, {"seqs", r.seqs}}; }
  json operator()(const AbandonedRecord& r) const {
    return {{"r", "abandoned"}, {"a", r.attempt_id}};
  }
  json operator()(const SeqReserveRecord& r) const { return {{"r", "seqs"}, {"upto", r.upto}}; }
  json operator()(const RetiredRecord& r) const { return {{"r", "retired"}, {"a", r.attempt_ids}}; }
};

Error corrupt(std::string_view why) { return Error(500, "CorruptJournal", std::string(why)); }

Result<Record> parse_json(const json& j) {
  const std::string kind = j.at("r").get<std::string>();
  if (kind == "accepted") {
    return Record(AcceptedRecord{j.at("a").get<std::string>(), j.at("job").get<std::string>(),
                                 j.at("task").get<std::string>(), j.at("slots").get<int>()});
  }
  if (kind == "started") {
    return Record(StartedRecord{j.at("a").get<std::string>(), j.at("pid").get<pid_t>(),
                                j.at("pgid").get<pid_t>(), j.at("start").get<std::string>(),
                                j.value("boot", std::string())});
  }
  if (kind == "report") {
    protocol::Report report;
    protocol::from_json(j.at("report"), report);
    return Record(ReportRecord{j.at("seq").get<std::uint64_t>(), std::move(report)});
  }
  if (kind == "acked") return Record(AckedRecord{j.at("seqs").get<std::vector<std::uint64_t>>()});
  if (kind == "abandoned") return Record(AbandonedRecord{j.at("a").get<std::string>()});
  if (kind == "seqs") return Record(SeqReserveRecord{j.at("upto").get<std::uint64_t>()});
  if (kind == "retired") {
    return Record(RetiredRecord{j.at("a").get<std::vector<std::string>>()});
  }
  return corrupt("unknown journal record kind '" + kind + "'");
}

}  // namespace

void apply_record(JournalState& state, const Record& record) { std::visit(Applier{state}, record); }

std::string format_record(const Record& record) { return std::visit(Formatter{}, record).dump(); }

Result<Record> parse_record(std::string_view line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return corrupt("a journal line is not a JSON object");
  try {  // nlohmann's typed getters throw; this is their boundary
    return parse_json(j);
  } catch (const std::exception& e) {
    return corrupt(std::string("a journal record is malformed: ") + e.what());
  }
}

std::vector<Record> snapshot_records(const JournalState& state) {
  std::vector<Record> out;
  out.reserve(state.attempts.size() * 2 + state.outbox.size() + 2);
  out.emplace_back(SeqReserveRecord{std::max(state.reserved_upto, state.next_seq)});
  if (!state.retired.empty()) {
    out.emplace_back(RetiredRecord{{state.retired.begin(), state.retired.end()}});
  }
  for (const auto& [id, a] : state.attempts) {
    out.emplace_back(AcceptedRecord{id, a.job_id, a.task_id, a.required_slots});
    if (a.pid)
      out.emplace_back(StartedRecord{id, *a.pid, a.pgid.value_or(0), a.start_time, a.boot_id});
  }
  for (const auto& [seq, report] : state.outbox) out.emplace_back(ReportRecord{seq, report});
  return out;
}

}  // namespace openbatch::agent::state
