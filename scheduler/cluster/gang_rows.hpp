// The engine's reads and writes of a gang's instance rows (store/subtask_rows.hpp holds the
// rows, domain/subtask_rows.hpp their transitions). Each call touches the one row it names, so
// an instance's coordination or completion costs the same whatever the size of its gang.
// Runs inside the caller's store op (Writer) or on a reader; no state of its own.
#pragma once

#include "common/clock.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "scheduler/domain/task_execution.hpp"
#include "scheduler/store/store.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace openbatch::cluster {

// Writes the rows of a gang just dispatched (instance k on targets[k] as attempt_ids[k]),
// replacing those of the task's earlier dispatch. False on a store error.
bool write_gang_rows(store::Writer& w, std::string_view job_id, std::string_view task_id,
                     const std::vector<domain::DispatchTarget>& targets,
                     const std::vector<std::string>& attempt_ids, TimePoint now);

enum class RowChange { Written, Unchanged, Failed };

// Instance k (`attempt_id`) is coordinated. Unchanged when its row is another dispatch's or
// says so already.
RowChange record_coordinated(store::Writer& w, std::string_view job_id, std::string_view task_id,
                             int subtask_id, std::string_view attempt_id, TimePoint now);

// Instance k > 0 (`attempt_id`) completed: its subtask takes the report's outcome. Unchanged
// when its row is another dispatch's or completed already.
RowChange record_subtask_completion(store::Writer& w, std::string_view job_id,
                                    std::string_view task_id, int subtask_id,
                                    std::string_view attempt_id, const protocol::Report& report,
                                    TimePoint now);

// The instances of the gang whose primary runs as `primary`, as its rows say after a restart:
// coordinated[k] per instance, one entry per row of that gang (k = 0, 1, ... while row k is
// instance k of `primary`).
std::vector<bool> read_gang_coordination(store::Reader& r, std::string_view job_id,
                                         std::string_view task_id, std::string_view primary);

}  // namespace openbatch::cluster
