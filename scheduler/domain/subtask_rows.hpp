// A multi-instance task's instances as rows of their own (batch-api.md section 11), kept out of
// the task's JSON so that an instance's report reads and writes its one row: the cost of a
// report is the same for a 3-instance and a 1,000-instance task. The store keeps one row per
// instance of the task's last dispatch (store/subtask_rows.hpp: parent = job, id = "task/k");
// this file is the pure half -- what a row's body holds and how a report changes it:
//   {"attemptId": "<instance k's attempt id>", "coordinated": bool,
//    "subtask": <Azure SubtaskInformation>}      ("subtask" only for k > 0: the primary is
//                                                  the task itself)
// A new dispatch replaces the rows; a retry or requeue keeps them, so the last attempt's
// subtasks stay readable and late reports of its instances still land on them.
// No I/O, no clock. Thread-safe: pure.
#pragma once

#include "common/clock.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "scheduler/domain/task_execution.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace openbatch::domain {

struct SubtaskRow {
  int subtask_id = 0;
  std::string state;  // the row's indexed state: its subtask's (preparing, running, completed)
  json body;
};

// The rows of a gang just dispatched: instance k on targets[k] as attempt_ids[k], every one
// "preparing" and not coordinated. Subtask k's directory is the task's root + "/k".
std::vector<SubtaskRow> gang_rows(std::string_view job_id, std::string_view task_id,
                                  const std::vector<DispatchTarget>& targets,
                                  const std::vector<std::string>& attempt_ids, TimePoint now);

// Instance `attempt_id` ran its coordination command to exit 0: coordinated, and its subtask
// preparing -> running. False (row unchanged) when the row is another attempt's (an older
// dispatch's report) or was coordinated already.
bool mark_row_coordinated(json& row, std::string_view attempt_id, TimePoint now);

bool row_coordinated(const json& row, std::string_view attempt_id);

// Instance `attempt_id` (k > 0) completed: its subtask takes the report's outcome. False when
// the row is another attempt's, has no subtask (the primary's) or is completed already.
bool complete_row(json& row, std::string_view attempt_id, const protocol::Report& report,
                  TimePoint now);

// The row's indexed state, from its body.
std::string row_state(const json& row);

// The SubtaskInformation the row holds (what subtasksinfo returns); nullptr for the primary's.
const json* subtask_info_of(const json& row);

}  // namespace openbatch::domain
