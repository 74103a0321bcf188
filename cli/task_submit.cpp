// Parallel addtaskcollection and TaskAddResult handling (see task_submit.hpp).
#include "cli/task_submit.hpp"

#include "cli/api.hpp"
#include "cli/errors.hpp"
#include "cli/json_fields.hpp"
#include "common/text/ascii.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace openbatch::cli {
namespace {

using nlohmann::json;

// The BatchError of a TaskAddResult as an Error without an HTTP status.
Error task_error(const json& result) {
  const json* error = find_path(result, "error");
  if (error == nullptr || !error->is_object()) {
    return Error(0, text_at(result, "status"), "the service gave no error details");
  }
  Error e = error_from_reply(0, to_body(*error));
  e.status = 0;
  return e;
}

}  // namespace

SubmitReport batch_outcome(const std::vector<std::string>& ids, std::string_view reply_body) {
  SubmitReport report;
  const json reply = json::parse(reply_body, nullptr, false);
  const json* value = reply.is_discarded() ? nullptr : find_path(reply, "value");
  std::unordered_map<std::string, const json*> by_id;
  if (value != nullptr && value->is_array()) {
    for (const auto& r : *value) by_id[text::to_lower(text_at(r, "taskId"))] = &r;
  }
  for (const auto& id : ids) {
    auto it = by_id.find(text::to_lower(id));
    if (it == by_id.end()) {
      report.failures.push_back(
          {id, Error(0, "MissingTaskAddResult", "the reply has no result for this task")});
    } else if (text_at(*it->second, "status") == "success") {
      ++report.added;
    } else {
      report.failures.push_back({id, task_error(*it->second)});
    }
  }
  return report;
}

SubmitReport submit_batches(const Connection& connection, const std::string& job_id,
                            const std::vector<json>& tasks, const std::vector<TaskBatch>& batches,
                            std::size_t connections) {
  const std::string target = path_of({"jobs", job_id, "addtaskcollection"});
  std::vector<SubmitReport> outcomes(batches.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    Api api(connection);
    for (std::size_t i = next++; i < batches.size(); i = next++) {
      const TaskBatch& batch = batches[i];
      std::vector<std::string> ids;
      for (std::size_t t = batch.first; t < batch.first + batch.count; ++t) {
        ids.push_back(text_at(tasks[t], "id"));
      }
      auto res = api.call("POST", target, 200, batch.body);
      if (res) {
        outcomes[i] = batch_outcome(ids, res->body);
      } else {
        for (auto& id : ids) outcomes[i].failures.push_back({std::move(id), res.error()});
      }
    }
  };
  const std::size_t n =
      std::clamp<std::size_t>(connections, 1, std::max<std::size_t>(batches.size(), 1));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < n; ++i) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  SubmitReport report;
  for (auto& o : outcomes) {
    report.added += o.added;
    for (auto& f : o.failures) report.failures.push_back(std::move(f));
  }
  return report;
}

}  // namespace openbatch::cli
