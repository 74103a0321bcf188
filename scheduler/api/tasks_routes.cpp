// Task routes: add, addtaskcollection (<= 100, one group-commit op for the whole collection),
// get, list, update (PUT constraints), delete, terminate, reactivate, subtasksinfo; file
// routes under a task are delegated to files_route.
#include "common/text/ascii.hpp"
#include "common/time.hpp"
#include "scheduler/api/entity.hpp"
#include "scheduler/api/entity_store.hpp"
#include "scheduler/api/json_body.hpp"
#include "scheduler/api/listing.hpp"
#include "scheduler/api/response.hpp"
#include "scheduler/api/routes.hpp"
#include "scheduler/domain/entity_state.hpp"
#include "scheduler/domain/job_transitions.hpp"
#include "scheduler/domain/subtask_rows.hpp"
#include "scheduler/domain/task_execution.hpp"
#include "scheduler/domain/task_validation.hpp"
#include "scheduler/store/async_write.hpp"
#include "scheduler/store/subtask_rows.hpp"
#include "scheduler/store/task_failures.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::api {
namespace {

using nlohmann::json;
using store::Table;

constexpr std::size_t kMaxTasksPerCollection = 100;

// Turns a validated TaskAddParameter into the stored CloudTask.
json make_task(json task, const json& job, const std::string& task_url, const std::string& etag,
               TimePoint now) {
  stamp_new(task, task_url, etag, now, to_string(domain::TaskState::Active));
  json& constraints = task["constraints"];
  if (!constraints.contains("maxWallClockTime"))
    constraints["maxWallClockTime"] = format_duration(kMaxDuration);
  if (!constraints.contains("retentionTime")) constraints["retentionTime"] = "P7D";
  if (!constraints.contains("maxTaskRetryCount")) {
    constraints["maxTaskRetryCount"] =
        job.contains("constraints") ? job["constraints"].value("maxTaskRetryCount", 0) : 0;
  }
  if (!task.contains("requiredSlots")) task["requiredSlots"] = 1;
  task["executionInfo"] = {{"retryCount", 0}, {"requeueCount", 0}};
  return task;
}

struct PreparedTask {
  std::string id;
  json entity;
  store::Record record;
};

RouteResult add_tasks(const RequestContext& ctx, Services& s, const std::string& job_id,
                      bool collection) {
  auto body = parse_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto reader = s.store.reader();
  auto job = load_entity(*reader, Table::Jobs, "", job_id);
  reader.reset();
  if (!job) co_return error_response(ctx, job_not_found());
  if (auto refused = domain::job_refuses_tasks(*job)) co_return error_response(ctx, *refused);
  const std::string real_job_id = job->value("id", job_id);

  json* items = &*body;
  json single = json::array();
  if (collection) {
    auto it = body->find("value");
    if (it == body->end()) co_return error_response(ctx, errors::missing_property("value"));
    if (!it->is_array())
      co_return error_response(
          ctx, errors::invalid_property("value", "", "value must be an array of tasks."));
    if (it->size() > kMaxTasksPerCollection) {
      co_return error_response(
          ctx, errors::invalid_property("value", std::to_string(it->size()),
                                        "A task collection may hold at most 100 tasks."));
    }
    items = &*it;
  } else {
    single.push_back(std::move(*body));
    items = &single;
  }

  std::vector<PreparedTask> tasks;
  tasks.reserve(items->size());
  const std::string job_url = s.account.public_url + "/jobs/" + real_job_id + "/tasks/";
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto validated = domain::validate_task_add(std::move((*items)[i]), *job);
    if (!validated) {
      Error e = validated.error();
      if (collection) {
        for (auto& d : e.values) {
          if (d.key == "PropertyName") d.value = "value[" + std::to_string(i) + "]." + d.value;
        }
      }
      co_return error_response(ctx, e);
    }
    PreparedTask t;
    t.id = (*validated)["id"].get<std::string>();
    t.entity = make_task(std::move(*validated), *job, job_url + t.id, s.etags.next(), ctx.now);
    t.record = make_record(t.entity, real_job_id);
    tasks.push_back(std::move(t));
  }

  std::vector<bool> added(tasks.size(), false);
  std::optional<Error> refused;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    // Recheck the job under the writer: it may have been terminated since we read it.
    auto current = load_entity(w, Table::Jobs, "", real_job_id);
    if (!current) {
      refused = job_not_found();
      return false;
    }
    if (auto r = domain::job_refuses_tasks(*current)) {
      refused = *r;
      return false;
    }
    for (std::size_t i = 0; i < tasks.size(); ++i)
      added[i] = w.insert(Table::Tasks, tasks[i].record);
    return true;
  });
  if (!status) co_return error_response(ctx, status.error());
  if (refused) co_return error_response(ctx, *refused);

  if (!collection) {
    if (!added[0])
      co_return error_response(
          ctx, errors::conflict("TaskExists", "The specified task already exists."));
    auto res = empty_response(ctx, http::status::created);
    set_entity_headers(res, tasks[0].entity["eTag"].get<std::string>(),
                       tasks[0].entity["lastModified"].get<std::string>());
    set_data_service_id(res, tasks[0].entity["url"].get<std::string>());
    co_return res;
  }
  // Written by hand: building 100 json objects only to dump them was a fifth of the CPU of
  // this route (bench/RESULTS.md). Every value below is already a plain JSON-safe string
  // except the URL, which is escaped.
  std::string out;
  out.reserve(64 + tasks.size() * 256);
  out += "{\"value\":[";
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (i) out += ',';
    out += "{\"taskId\":";
    append_json_string(out, tasks[i].id);
    if (added[i]) {
      out += ",\"status\":\"success\",\"eTag\":";
      append_json_string(out, tasks[i].entity["eTag"].get_ref<const std::string&>());
      out += ",\"lastModified\":";
      append_json_string(out, tasks[i].entity["lastModified"].get_ref<const std::string&>());
      out += ",\"location\":";
      append_json_string(out, tasks[i].entity["url"].get_ref<const std::string&>());
      out += '}';
    } else {
      out +=
          ",\"status\":\"clienterror\",\"error\":{\"code\":\"TaskExists\",\"message\":"
          "{\"lang\":\"en-US\",\"value\":\"The specified task already exists.\"}}}";
    }
  }
  out += "]}";
  co_return json_response(ctx, http::status::ok, std::move(out));
}

HttpResponse get_task(const RequestContext& ctx, Services& s, const std::string& job_id,
                      const std::string& task_id) {
  auto reader = s.store.reader();
  auto job = reader->get(Table::Jobs, "", job_id);
  if (!job) return error_response(ctx, job_not_found());
  auto task = load_entity(*reader, Table::Tasks, job->id, task_id);
  if (!task) return error_response(ctx, task_not_found());
  return entity_response(ctx, *task, "tasks");
}

HttpResponse list_tasks(const RequestContext& ctx, Services& s, const std::string& job_id) {
  auto reader = s.store.reader();
  auto job = reader->get(Table::Jobs, "", job_id);
  if (!job) return error_response(ctx, job_not_found());
  return list_entities(ctx, s, {Table::Tasks, job->id, "tasks"});
}

// Loads job and task under the writer, checks preconditions, runs `mutate`, saves the task.
template <class Mutate>
boost::asio::awaitable<Result<json>> update_task(const RequestContext& ctx, Services& s,
                                                 const std::string& job_id,
                                                 const std::string& task_id, Mutate mutate) {
  Error error;
  json task;
  const std::string etag = s.etags.next();
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    auto job = load_entity(w, Table::Jobs, "", job_id);
    if (!job) {
      error = job_not_found();
      return false;
    }
    const std::string parent = job->value("id", job_id);
    auto current = load_entity(w, Table::Tasks, parent, task_id);
    if (!current) {
      error = task_not_found();
      return false;
    }
    if (auto pre = check_preconditions(ctx, *current, false); !pre) {
      error = pre.error();
      return false;
    }
    if (Status m = mutate(w, *job, *current); !m) {
      error = m.error();
      return false;
    }
    touch(*current, etag, ctx.now);
    task = std::move(*current);
    return w.update(Table::Tasks, make_record(task, parent));
  });
  if (!status) co_return status.error();
  if (!error.code.empty()) co_return error;
  co_return task;
}

RouteResult put_task(const RequestContext& ctx, Services& s, const std::string& job_id,
                     const std::string& task_id) {
  auto body = parse_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto result = co_await update_task(
      ctx, s, job_id, task_id, [&](store::Writer&, const json& job, json& task) -> Status {
        auto validated = domain::validate_task_update(*body, job);
        if (!validated) return validated.error();
        if (domain::task_state(task) == domain::TaskState::Completed) {
          return errors::conflict("TaskCompleted", "The specified task is already completed.");
        }
        if (auto c = validated->find("constraints"); c != validated->end()) {
          for (auto it = c->begin(); it != c->end(); ++it)
            task["constraints"][it.key()] = it.value();
        }
        return {};
      });
  if (!result) co_return error_response(ctx, result.error());
  auto res = empty_response(ctx, http::status::ok);
  set_entity_headers(res, result->value("eTag", ""), result->value("lastModified", ""));
  set_data_service_id(res, result->value("url", ""));
  co_return res;
}

RouteResult terminate_task(const RequestContext& ctx, Services& s, const std::string& job_id,
                           const std::string& task_id) {
  auto result = co_await update_task(
      ctx, s, job_id, task_id, [&](store::Writer& w, const json& job, json& task) -> Status {
        // A running task is killed by its node; it stays recorded as ended by the user.
        if (auto ended = domain::terminate_task(task, ctx.now); !ended) return ended;
        if (!store::mark_task_failed(w, job.value("id", job_id), task.value("id", task_id))) {
          return errors::internal("could not record the task's failure");
        }
        return {};
      });
  if (!result) co_return error_response(ctx, result.error());
  co_return empty_response(ctx, http::status::no_content);
}

RouteResult reactivate_task(const RequestContext& ctx, Services& s, const std::string& job_id,
                            const std::string& task_id) {
  auto result = co_await update_task(
      ctx, s, job_id, task_id, [&](store::Writer& w, const json& job, json& task) -> Status {
        const auto job_state = domain::job_state(job).value_or(domain::JobState::Active);
        if (auto again = domain::reactivate_task(task, job_state, ctx.now); !again) return again;
        store::clear_task_failed(w, job.value("id", job_id), task.value("id", task_id));
        return {};
      });
  if (!result) co_return error_response(ctx, result.error());
  co_return empty_response(ctx, http::status::no_content);
}

RouteResult delete_task(const RequestContext& ctx, Services& s, const std::string& job_id,
                        const std::string& task_id) {
  Error error;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    auto job = w.get(Table::Jobs, "", job_id);
    if (!job) {
      error = job_not_found();
      return false;
    }
    auto task = load_entity(w, Table::Tasks, job->id, task_id);
    if (!task) {
      error = task_not_found();
      return false;
    }
    if (auto pre = check_preconditions(ctx, *task, false); !pre) {
      error = pre.error();
      return false;
    }
    store::clear_task_failed(w, job->id, task_id);
    store::erase_subtask_rows(w, job->id, task_id);
    return w.erase(Table::Tasks, job->id, task_id);
  });
  if (!status) co_return error_response(ctx, status.error());
  if (!error.code.empty()) co_return error_response(ctx, error);
  co_return empty_response(ctx, http::status::ok);
}

HttpResponse subtasks_info(const RequestContext& ctx, Services& s, const std::string& job_id,
                           const std::string& task_id) {
  auto reader = s.store.reader();
  auto job = reader->get(Table::Jobs, "", job_id);
  if (!job) return error_response(ctx, job_not_found());
  auto task = load_entity(*reader, Table::Tasks, job->id, task_id);
  if (!task) return error_response(ctx, task_not_found());
  // Subtasks exist once a multi-instance task has been placed: rows 1..N-1 of its instances
  // (store/subtask_rows.hpp; row 0 is the primary, the task itself).
  json value = json::array();
  const std::string stored_task_id = task->value("id", task_id);
  for (int k = 1;; ++k) {
    auto row = store::get_subtask_row(*reader, job->id, stored_task_id, k);
    if (!row) break;
    const json body = json::parse(row->body, nullptr, false);
    if (const json* info = body.is_object() ? domain::subtask_info_of(body) : nullptr)
      value.push_back(*info);
  }
  json body = {{"odata.metadata", ctx.base_url + "/$metadata#subtaskinformations"},
               {"value", value}};
  return json_response(ctx, http::status::ok, dump_json(body));
}

}  // namespace

RouteResult tasks_route(const RequestContext& ctx, Services& s) {
  const auto& seg =
      ctx.segments;  // jobs/{j}/tasks[/{t}[/action|files...]] or jobs/{j}/addtaskcollection
  const std::string& m = ctx.method;
  const std::string& job_id = seg[1];
  if (text::to_lower(seg[2]) == "addtaskcollection") {
    if (seg.size() != 3) co_return invalid_uri(ctx);
    if (m != "POST") co_return unsupported_verb(ctx);
    co_return co_await add_tasks(ctx, s, job_id, true);
  }
  if (seg.size() == 3) {
    if (m == "GET") co_return list_tasks(ctx, s, job_id);
    if (m == "POST") co_return co_await add_tasks(ctx, s, job_id, false);
    co_return unsupported_verb(ctx);
  }
  const std::string& task_id = seg[3];
  if (seg.size() == 4) {
    if (m == "GET") co_return get_task(ctx, s, job_id, task_id);
    if (m == "PUT") co_return co_await put_task(ctx, s, job_id, task_id);
    if (m == "DELETE") co_return co_await delete_task(ctx, s, job_id, task_id);
    co_return unsupported_verb(ctx);
  }
  if (seg[4] == "files") co_return co_await files_route(ctx, s);
  if (seg.size() != 5) co_return invalid_uri(ctx);
  const std::string action = text::to_lower(seg[4]);
  if (action == "subtasksinfo") {
    if (m != "GET") co_return unsupported_verb(ctx);
    co_return subtasks_info(ctx, s, job_id, task_id);
  }
  if (m != "POST") co_return unsupported_verb(ctx);
  if (action == "terminate") co_return co_await terminate_task(ctx, s, job_id, task_id);
  if (action == "reactivate") co_return co_await reactivate_task(ctx, s, job_id, task_id);
  co_return invalid_uri(ctx);
}

}  // namespace openbatch::api
