// Task files and addtaskcollection batches (see task_file.hpp).
#include "cli/task_file.hpp"

#include "cli/errors.hpp"
#include "cli/json_fields.hpp"
#include "common/text/ascii.hpp"

#include <algorithm>
#include <unordered_set>

namespace openbatch::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kBodyOpen = "{\"value\":[";
constexpr std::string_view kBodyClose = "]}";

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

Result<TaskFile> parse_task_file(std::string_view text, std::string_view origin) {
  const std::string where(origin);
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return usage_error(where + ": not valid JSON");
  TaskFile file;
  json* list = &parsed;  // the array of tasks, when there is one
  if (parsed.is_object() && parsed.contains("value")) {
    list = &parsed["value"];
    if (!list->is_array()) return usage_error(where + ": \"value\" must be an array of tasks");
  } else if (parsed.is_object()) {
    file.single = true;
    file.tasks.push_back(std::move(parsed));
    list = nullptr;
  } else if (!parsed.is_array()) {
    return usage_error(where + ": expected a task object, an array of tasks or {\"value\":[...]}");
  }
  if (list != nullptr) {
    file.tasks.reserve(list->size());
    for (auto& t : *list) file.tasks.push_back(std::move(t));
  }
  if (file.tasks.empty()) return usage_error(where + ": no tasks");
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < file.tasks.size(); ++i) {
    const json& t = file.tasks[i];
    const std::string entry = where + ": task " + std::to_string(i + 1);
    if (!t.is_object()) return usage_error(entry + " is not a JSON object");
    auto id = t.find("id");
    if (id == t.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
      return usage_error(entry + " has no \"id\"");
    }
    if (!seen.insert(text::to_lower(id->get<std::string>())).second) {
      return usage_error(entry + " repeats the id '" + id->get<std::string>() + "'");
    }
  }
  return file;
}

Result<std::vector<TaskBatch>> make_batches(const std::vector<json>& tasks, std::size_t max_tasks,
                                            std::size_t max_bytes) {
  std::vector<TaskBatch> batches;
  const std::size_t frame = kBodyOpen.size() + kBodyClose.size();
  TaskBatch current;
  auto finish = [&] {
    if (current.count == 0) return;
    current.body += kBodyClose;
    batches.push_back(std::move(current));
    current = TaskBatch{};
  };
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const std::string text = dump(tasks[i]);
    if (frame + text.size() > max_bytes) {
      return usage_error("task '" + text_at(tasks[i], "id") + "' is " +
                         std::to_string(text.size()) + " bytes of JSON; a request takes at most " +
                         std::to_string(max_bytes));
    }
    const std::size_t grown = current.body.size() + text.size() + 1 + kBodyClose.size();
    if (current.count == max_tasks || (current.count > 0 && grown > max_bytes)) finish();
    if (current.count == 0) {
      current.first = i;
      current.body = kBodyOpen;
    } else {
      current.body += ',';
    }
    current.body += text;
    ++current.count;
  }
  finish();
  return batches;
}

}  // namespace openbatch::cli
