// Task input for `task add`: reading a task file (one TaskAddParameter object, a JSON array
// of them, or {"value":[...]} as addtaskcollection takes it) and splitting the tasks into
// addtaskcollection request bodies of at most 100 tasks and under 1 MB each
// (batch-api.md section 5). Pure functions over values; thread-safe.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace openbatch::cli {

inline constexpr std::size_t kMaxTasksPerCollection = 100;
inline constexpr std::size_t kMaxCollectionBytes = 1'000'000;  // the service refuses >= 1 MB

struct TaskFile {
  std::vector<nlohmann::json> tasks;
  bool single = false;  // the file held one task object (sent with a plain task add)
};

// Parses the text of a task file. Every task must be an object with a non-empty string
// "id", and ids must be unique (case-insensitively, as the service compares them); otherwise
// a usage error naming `origin` and the offending entry.
Result<TaskFile> parse_task_file(std::string_view text, std::string_view origin);

// One addtaskcollection request: tasks [first, first + count) of the list, and the body.
struct TaskBatch {
  std::size_t first = 0;
  std::size_t count = 0;
  std::string body;  // {"value":[...]}
};

// Consecutive batches of at most `max_tasks` tasks whose bodies are at most `max_bytes`
// long. A task that alone makes a body longer than `max_bytes` is a usage error.
Result<std::vector<TaskBatch>> make_batches(const std::vector<nlohmann::json>& tasks,
                                            std::size_t max_tasks = kMaxTasksPerCollection,
                                            std::size_t max_bytes = kMaxCollectionBytes - 1);

}  // namespace openbatch::cli
