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
#include "scheduler/domain/job_transitions.hpp"
#include "scheduler/domain/job_validation.hpp"
#include "scheduler/domain/states.hpp"
#include "scheduler/store/async_write.hpp"
#include "scheduler/store/task_failures.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::api {
namespace {

using domain::JobState;
using domain::TaskState;
using nlohmann::json;
using store::Table;

HttpResponse entity_reply(const RequestContext& ctx, http::status status, const json& job) {
  auto res = empty_response(ctx, status);
  set_entity_headers(res, job.value("eTag", ""), job.value("lastModified", ""));
  set_data_service_id(res, job.value("url", ""));
  return res;
}

RouteResult add_job(const RequestContext& ctx, Services& s) {
  auto body = parse_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto validated = domain::validate_job_add(*body);
  if (!validated) co_return error_response(ctx, validated.error());
  json job = std::move(*validated);
  const std::string id = job["id"];
  stamp_new(job, s.account.public_url + "/jobs/" + id, s.etags.next(), ctx.now,
            to_string(JobState::Active));
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
    return domain::delete_job(job, ctx.now);
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
    // The sweep completes the job once its running tasks are stopped; active tasks never run.
    return domain::terminate_job(job, reason, ctx.now);
  });
  if (!result) co_return error_response(ctx, result.error());
  co_return entity_reply(ctx, http::status::accepted, *result);
}

RouteResult patch_job(const RequestContext& ctx, Services& s, const std::string& id,
                      bool full_update) {
  auto body = parse_json_body(ctx.http.body());
  if (!body) co_return error_response(ctx, body.error());
  auto result = co_await update_job(ctx, s, id, [&](store::Writer&, json& job) -> Status {
    if (auto accepted = domain::job_accepts_updates(job); !accepted) return accepted;
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
    // The sweep finishes disabling once running tasks are dealt with per `disableTasks`.
    return domain::disable_job(job, option, ctx.now);
  });
  if (!result) co_return error_response(ctx, result.error());
  co_return entity_reply(ctx, http::status::accepted, *result);
}

RouteResult enable_job(const RequestContext& ctx, Services& s, const std::string& id) {
  auto result = co_await update_job(ctx, s, id, [&](store::Writer&, json& job) -> Status {
    return domain::enable_job(job, ctx.now);
  });
  if (!result) co_return error_response(ctx, result.error());
  co_return entity_reply(ctx, http::status::accepted, *result);
}

HttpResponse task_counts(const RequestContext& ctx, Services& s, const std::string& id) {
  auto reader = s.store.reader();
  auto job = reader->get(Table::Jobs, "", id);
  if (!job) return error_response(ctx, job_not_found());
  const std::string real_id = job->id;
  auto in_state = [&](TaskState state) {
    return reader->count(Table::Tasks, real_id, to_string(state));
  };
  const int64_t active = in_state(TaskState::Active);
  const int64_t running = in_state(TaskState::Running) + in_state(TaskState::Preparing);
  const int64_t completed = in_state(TaskState::Completed);
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
