// Job routes: add, get, list, delete, patch, update (PUT), terminate, disable, enable,
// taskcounts. State changes that need work done elsewhere (killing tasks, removing a deleted
// job's tasks) are recorded here and finished by the lifecycle sweep.
#include "common/text/ascii.hpp"
#include "common/time.hpp"
#include "scheduler/api/entity.hpp"
#include "scheduler/api/entity_store.hpp"
#include "scheduler/api/entity_update.hpp"
#include "scheduler/api/json_body.hpp"
#include "scheduler/api/listing.hpp"
#include "scheduler/api/response.hpp"
#include "scheduler/api/routes.hpp"
#include "scheduler/domain/job_validation.hpp"
#include "scheduler/store/async_write.hpp"
#include "scheduler/store/task_failures.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::api {
namespace {

using nlohmann::json;
using store::Table;

HttpResponse entity_reply(const RequestContext& ctx, http::status status, const json& job) {
  auto res = empty_response(ctx, status);
  set_entity_headers(res, job.value("eTag", ""), job.value("lastModified", ""));
  set_data_service_id(res, job.value("url", ""));
  return res;
}

// The 409 for an operation that needs the job in another state.
Error job_state_conflict(const std::string& state) {
  if (state == "deleting")
    return errors::conflict(
        "JobBeingDeleted",
        "The specified job has been marked for deletion and is being garbage collected.");
  if (state == "terminating")
    return errors::conflict("JobBeingTerminated", "The specified job is being terminated.");
  if (state == "completed")
    return errors::conflict("JobCompleted", "The specified job is already in a completed state.");
  if (state == "disabled" || state == "disabling")
    return errors::conflict("JobDisabled", "The specified job is disabled.");
  return errors::conflict("JobNotActive", "The specified job is not in the active state.");
}

RouteResult add_job(const RequestContext& ctx, Services& s) {
  auto body = parse_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto validated = domain::validate_job_add(*body);
  if (!validated) co_return error_response(ctx, validated.error());
  json job = std::move(*validated);
  const std::string id = job["id"];
  stamp_new(job, s.account.public_url + "/jobs/" + id, s.etags.next(), ctx.now, "active");
  json info = {{"startTime", format_iso8601(ctx.now)}};
  if (auto pool_id = job["poolInfo"].find("poolId"); pool_id != job["poolInfo"].end())
    info["poolId"] = *pool_id;
  job["executionInfo"] = std::move(info);
  auto record = make_record(job, "");
  bool exists = false;
  auto status = co_await store::write(s.store, [&](store::Writer& w) {
    exists = !w.insert(Table::Jobs, record);
    return !exists;
  });
  if (!status) co_return error_response(ctx, status.error());
  if (exists)
    co_return error_response(ctx,
                             errors::conflict("JobExists", "The specified job already exists."));
  co_return entity_reply(ctx, http::status::created, job);
}

HttpResponse get_job(const RequestContext& ctx, Services& s, const std::string& id) {
  auto reader = s.store.reader();
  auto job = load_entity(*reader, Table::Jobs, "", id);
  if (!job) return error_response(ctx, job_not_found());
  return entity_response(ctx, *job, "jobs");
}

template <class Mutate>
boost::asio::awaitable<Result<json>> update_job(const RequestContext& ctx, Services& s,
                                                const std::string& id, Mutate mutate) {
  co_return co_await update_entity(ctx, s, Table::Jobs, id, job_not_found, std::move(mutate));
}

RouteResult delete_job(const RequestContext& ctx, Services& s, const std::string& id) {
  auto result = co_await update_job(ctx, s, id, [&](store::Writer&, json& job) -> Status {
    if (job.value("state", "") == "deleting") return job_state_conflict("deleting");
    transition_state(job, "deleting", ctx.now);
    return {};
  });
  if (!result) co_return error_response(ctx, result.error());
  co_return empty_response(ctx, http::status::accepted);
}

RouteResult terminate_job(const RequestContext& ctx, Services& s, const std::string& id) {
  auto body = parse_optional_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto validated = domain::validate_job_terminate(*body);
  if (!validated) co_return error_response(ctx, validated.error());
  const std::string reason = validated->value("terminateReason", "UserTerminate");
  auto result = co_await update_job(ctx, s, id, [&](store::Writer&, json& job) -> Status {
    const std::string state = job.value("state", "");
    if (state == "completed" || state == "terminating" || state == "deleting")
      return job_state_conflict(state);
    // The sweep completes the job once its running tasks are stopped; active tasks never run.
    transition_state(job, "terminating", ctx.now);
    job["executionInfo"]["terminateReason"] = reason;
    return {};
  });
  if (!result) co_return error_response(ctx, result.error());
  co_return entity_reply(ctx, http::status::accepted, *result);
}

RouteResult patch_job(const RequestContext& ctx, Services& s, const std::string& id,
                      bool full_update) {
  auto body = parse_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto result = co_await update_job(ctx, s, id, [&](store::Writer&, json& job) -> Status {
    const std::string state = job.value("state", "");
    if (state == "completed" || state == "terminating" || state == "deleting")
      return job_state_conflict(state);
    auto changes = full_update ? domain::validate_job_update(*body, job)
                               : domain::validate_job_patch(*body, job);
    if (!changes) return changes.error();
    for (auto it = changes->begin(); it != changes->end(); ++it) job[it.key()] = it.value();
    if (auto pool_id = job["poolInfo"].find("poolId"); pool_id != job["poolInfo"].end()) {
      job["executionInfo"]["poolId"] = *pool_id;
    }
    return {};
  });
  if (!result) co_return error_response(ctx, result.error());
  co_return entity_reply(ctx, http::status::ok, *result);
}

RouteResult disable_job(const RequestContext& ctx, Services& s, const std::string& id) {
  auto body = parse_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto validated = domain::validate_job_disable(*body);
  if (!validated) co_return error_response(ctx, validated.error());
  const std::string option = validated->value("disableTasks", "requeue");
  auto result = co_await update_job(ctx, s, id, [&](store::Writer&, json& job) -> Status {
    const std::string state = job.value("state", "");
    if (state != "active") return job_state_conflict(state);
    // The sweep finishes disabling once running tasks are dealt with per `disableTasks`.
    transition_state(job, "disabling", ctx.now);
    job["openbatch"]["disableTasks"] = option;
    return {};
  });
  if (!result) co_return error_response(ctx, result.error());
  co_return entity_reply(ctx, http::status::accepted, *result);
}

RouteResult enable_job(const RequestContext& ctx, Services& s, const std::string& id) {
  auto result = co_await update_job(ctx, s, id, [&](store::Writer&, json& job) -> Status {
    const std::string state = job.value("state", "");
    if (state != "disabled" && state != "disabling") {
      return errors::conflict("JobNotDisabled", "The specified job is not disabled.");
    }
    transition_state(job, "enabling", ctx.now);
    return {};
  });
  if (!result) co_return error_response(ctx, result.error());
  co_return entity_reply(ctx, http::status::accepted, *result);
}

HttpResponse task_counts(const RequestContext& ctx, Services& s, const std::string& id) {
  auto reader = s.store.reader();
  auto job = reader->get(Table::Jobs, "", id);
  if (!job) return error_response(ctx, job_not_found());
  const std::string real_id = job->id;
  const int64_t active = reader->count(Table::Tasks, real_id, "active");
  const int64_t running = reader->count(Table::Tasks, real_id, "running") +
                          reader->count(Table::Tasks, real_id, "preparing");
  const int64_t completed = reader->count(Table::Tasks, real_id, "completed");
  const int64_t failed = store::failed_task_count(*reader, real_id);
  json counts = {{"active", active},
                 {"running", running},
                 {"completed", completed},
                 {"succeeded", completed - failed},
                 {"failed", failed}};
  json body = {{"odata.metadata", ctx.base_url + "/$metadata#taskcountsresult/@Element"},
               {"taskCounts", counts},
               {"taskSlotCounts", counts}};
  return json_response(ctx, http::status::ok, dump_json(body));
}

}  // namespace

RouteResult jobs_route(const RequestContext& ctx, Services& s) {
  const auto& seg = ctx.segments;
  const std::string& m = ctx.method;
  if (seg.size() == 1) {
    if (m == "GET") co_return list_entities(ctx, s, {Table::Jobs, "", "jobs"});
    if (m == "POST") co_return co_await add_job(ctx, s);
    co_return unsupported_verb(ctx);
  }
  if (seg.size() >= 3 && (seg[2] == "tasks" || text::to_lower(seg[2]) == "addtaskcollection")) {
    co_return co_await tasks_route(ctx, s);
  }
  const std::string& id = seg[1];
  if (seg.size() == 2) {
    if (m == "GET") co_return get_job(ctx, s, id);
    if (m == "DELETE") co_return co_await delete_job(ctx, s, id);
    if (m == "PATCH") co_return co_await patch_job(ctx, s, id, false);
    if (m == "PUT") co_return co_await patch_job(ctx, s, id, true);
    co_return unsupported_verb(ctx);
  }
  if (seg.size() != 3) co_return invalid_uri(ctx);
  const std::string action = text::to_lower(seg[2]);
  if (action == "taskcounts") {
    if (m != "GET") co_return unsupported_verb(ctx);
    co_return task_counts(ctx, s, id);
  }
  if (m != "POST") co_return unsupported_verb(ctx);
  if (action == "terminate") co_return co_await terminate_job(ctx, s, id);
  if (action == "disable") co_return co_await disable_job(ctx, s, id);
  if (action == "enable") co_return co_await enable_job(ctx, s, id);
  co_return invalid_uri(ctx);
}

}  // namespace openbatch::api
