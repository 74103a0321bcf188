// What `job wait` and `task wait` poll: a whole job (its taskcounts, cheap at any size) or
// a set of task ids (each polled until completed, or the job's task list when the set is
// large). Both also read the job's state: once the job has completed, active tasks will
// never run, so the wait ends.
//
// The tally functions are pure; the sources do I/O through the Api they are given, which
// must outlive them. Not thread-safe.
#pragma once

#include "cli/api.hpp"
#include "cli/waiter.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <unordered_map>
#include <vector>

namespace openbatch::cli {

// TaskCounts from a /taskcounts reply ({"taskCounts":{active, running, completed, failed}}).
TaskCounts counts_from_taskcounts(const nlohmann::json& reply);

// Where one task stands, from its wire JSON.
enum class TaskPhase { Active, Running, Succeeded, Failed };
TaskPhase task_phase(const nlohmann::json& task);

// Adds one task in `phase` to `counts`.
void tally(TaskPhase phase, TaskCounts& counts);

// Early finish when the job is completed: the reason text, or "" while it is not.
std::string job_finish_reason(const nlohmann::json& job);

class JobWaitSource {
 public:
  JobWaitSource(Api& api, std::string job_id) : api_(api), job_(std::move(job_id)) {}
  Result<WaitState> poll();

  // Up to `limit` ids of failed tasks (a single page, not the whole list).
  Result<std::vector<std::string>> failed_ids(std::size_t limit);

 private:
  Api& api_;
  std::string job_;
};

class TaskSetWaitSource {
 public:
  // Polls tasks one by one while at most this many are still incomplete; beyond, lists the job.
  static constexpr std::size_t kPerTaskPollLimit = 50;

  TaskSetWaitSource(Api& api, std::string job_id, const std::vector<std::string>& task_ids);
  Result<WaitState> poll();

  // The requested ids that completed with failure, in the order given.
  std::vector<std::string> failed_ids() const;

 private:
  Result<void> poll_each();
  Result<void> poll_list();

  Api& api_;
  std::string job_;
  std::vector<std::string> ids_;                       // as given, duplicates removed
  std::unordered_map<std::string, TaskPhase> phases_;  // lowercase id -> last phase seen
};

}  // namespace openbatch::cli
