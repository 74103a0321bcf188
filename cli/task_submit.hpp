// Sending many tasks: addtaskcollection batches (task_file.hpp) spread over a few worker
// threads, each with its own keep-alive connection, and the per-task outcome of every reply
// (batch-api.md section 5: TaskAddResult, in any order).
//
// submit_batches blocks until every batch is answered; it starts and joins its own threads
// and shares nothing else. batch_outcome is pure.
#pragma once

#include "cli/config.hpp"
#include "cli/task_file.hpp"
#include "common/error.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace openbatch::cli {

struct TaskAddFailure {
  std::string task_id;
  Error error;  // the TaskAddResult's error (status 0: it came inside a 200 reply)
};

struct SubmitReport {
  std::size_t added = 0;
  std::vector<TaskAddFailure> failures;  // in task-file order
};

// The outcome of one batch given the ids it sent and the reply body ("value" of
// TaskAddResults). Tasks the reply does not mention are failures ("MissingTaskAddResult").
SubmitReport batch_outcome(const std::vector<std::string>& ids, std::string_view reply_body);

// Sends `batches` of `tasks` to job `job_id` over `connections` connections (at least 1);
// a batch whose request fails as a whole (HTTP error, transport) fails all its tasks with
// that Error.
SubmitReport submit_batches(const Connection& connection, const std::string& job_id,
                            const std::vector<nlohmann::json>& tasks,
                            const std::vector<TaskBatch>& batches, std::size_t connections);

}  // namespace openbatch::cli
