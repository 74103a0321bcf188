// Store-side steps the engine's write ops share (they run on the store's writer thread, inside
// the group transaction): requeueing a task whose attempt is current, and writing entity JSON
// back into its record.
#pragma once

#include "common/clock.hpp"
#include "scheduler/store/store.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace openbatch::cluster {

// Entity JSON as the store keeps it (invalid UTF-8 replaced rather than throwing).
std::string dump_entity(const nlohmann::json& entity);

// What became of a task when its attempt was requeued.
struct RequeuedTask {
  bool changed = false;  // the attempt was current: the task is active again
  int64_t seq = 0;       // the task record's seq (for placement order)
  nlohmann::json task;   // the task as written
};

// Requeues the task (job_id, task_id) if `attempt_id` is its current, running attempt; else
// changes nothing. False only when the store refused the write (the op must fail).
bool requeue_if_current(store::Writer& w, const std::string& job_id, const std::string& task_id,
                        const std::string& attempt_id, TimePoint now, RequeuedTask& out);

}  // namespace openbatch::cluster
