// Reads placement scenario fixtures (JSON) into plain values. nlohmann::json throws on bad
// input; the exceptions stop here and come back as an Error.
#include "tests/unit/placement/scenario.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <stdexcept>
#include <string_view>

namespace openbatch::placement::testing {
namespace {

using nlohmann::json;

void check_keys(const json& j, std::initializer_list<std::string_view> allowed,
                std::string_view where) {
  if (!j.is_object()) throw std::runtime_error(std::string(where) + ": expected an object");
  for (const auto& [key, value] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      throw std::runtime_error(std::string(where) + ": unknown key '" + key + "'");
    }
  }
}

template <class T>
T parsed(std::optional<T> value, std::string_view text, std::string_view what) {
  if (!value) throw std::runtime_error("bad " + std::string(what) + " '" + std::string(text) + "'");
  return *value;
}

PoolSnapshot read_pool(const json& j) {
  check_keys(j, {"id", "taskSlotsPerNode", "nodeFillType", "enableInterNodeCommunication"}, "pool");
  PoolSnapshot pool;
  pool.id = j.at("id").get<std::string>();
  pool.task_slots_per_node = j.value("taskSlotsPerNode", 1);
  const auto fill = j.value("nodeFillType", std::string("spread"));
  pool.fill_type = parsed(parse_node_fill_type(fill), fill, "nodeFillType");
  pool.enable_inter_node_communication = j.value("enableInterNodeCommunication", false);
  return pool;
}

NodeSnapshot read_node(const json& j) {
  check_keys(
      j,
      {"id", "poolId", "state", "schedulingState", "runningTaskSlotsCount", "runningTasksCount",
       "affinityId", "gpus", "cudaDriverVersion", "infinibandActivePorts"},
      "node");
  NodeSnapshot node;
  node.id = j.at("id").get<std::string>();
  node.pool_id = j.at("poolId").get<std::string>();
  const auto state = j.value("state", std::string("idle"));
  node.state = parsed(parse_node_state(state), state, "node state");
  const auto scheduling = j.value("schedulingState", std::string("enabled"));
  if (scheduling != "enabled" && scheduling != "disabled") {
    throw std::runtime_error("bad schedulingState '" + scheduling + "'");
  }
  node.scheduling_enabled = scheduling == "enabled";
  node.used_slots = j.value("runningTaskSlotsCount", 0);
  node.running_tasks = j.value("runningTasksCount", node.used_slots);
  node.affinity_id = j.value("affinityId", "TVM:" + node.id);
  for (const json& gpu : j.value("gpus", json::array())) {
    check_keys(gpu, {"uuid", "sku"}, "gpu");
    node.gpus.push_back({gpu.at("uuid").get<std::string>(), gpu.at("sku").get<std::string>()});
  }
  node.cuda_driver_version = j.value("cudaDriverVersion", 0);
  node.infiniband_active_ports = j.value("infinibandActivePorts", 0);
  return node;
}

PendingTask read_task(const json& j) {
  check_keys(j,
             {"jobId", "id", "poolId", "priority", "seq", "requiredSlots", "numberOfInstances",
              "affinityId", "gpu"},
             "task");
  PendingTask task;
  task.job_id = j.at("jobId").get<std::string>();
  task.task_id = j.at("id").get<std::string>();
  task.pool_id = j.at("poolId").get<std::string>();
  task.priority = j.value("priority", 0);
  task.seq = j.at("seq").get<int64_t>();
  task.required_slots = j.value("requiredSlots", 1);
  task.number_of_instances = j.value("numberOfInstances", 1);
  task.affinity_id = j.value("affinityId", std::string());
  if (j.contains("gpu")) {
    const json& gpu = j.at("gpu");
    check_keys(gpu, {"count", "sku", "minCudaVersion"}, "task gpu");
    task.gpu = GpuRequest{gpu.value("count", 0), gpu.value("sku", std::string()),
                          gpu.value("minCudaVersion", 0)};
  }
  return task;
}

NamedNodes read_named_nodes(const json& list, std::string_view where) {
  NamedNodes out;
  for (const json& j : list) {
    check_keys(j, {"task", "nodes"}, where);
    out.emplace_back(j.at("task").get<std::string>(),
                     j.at("nodes").get<std::vector<std::string>>());
  }
  return out;
}

ExpectedPending read_pending(const json& j) {
  check_keys(j, {"task", "reason", "text", "nodes", "unlistedNodes"}, "expected pending");
  ExpectedPending p;
  p.task = j.at("task").get<std::string>();
  const auto code = j.at("reason").get<std::string>();
  p.reason = parsed(parse_reason_code(code), code, "reason");
  if (j.contains("text")) p.text = j.at("text").get<std::string>();
  if (j.contains("nodes")) {
    p.nodes.emplace();
    for (const json& n : j.at("nodes")) {
      check_keys(n, {"node", "reason"}, "expected node reason");
      const auto node_code = n.at("reason").get<std::string>();
      p.nodes->emplace_back(n.at("node").get<std::string>(),
                            parsed(parse_reason_code(node_code), node_code, "reason"));
    }
  }
  if (j.contains("unlistedNodes")) p.unlisted_nodes = j.at("unlistedNodes").get<std::size_t>();
  return p;
}

PlacementPolicy read_policy(const json& j) {
  check_keys(j, {"maxNodeReasons", "maxDetailedPending", "reserveForGangs"}, "policy");
  PlacementPolicy policy;
  policy.max_node_reasons = j.value("maxNodeReasons", policy.max_node_reasons);
  policy.max_detailed_pending = j.value("maxDetailedPending", policy.max_detailed_pending);
  policy.reserve_for_gangs = j.value("reserveForGangs", policy.reserve_for_gangs);
  return policy;
}

Scenario read_scenario(const json& j) {
  check_keys(j, {"description", "policy", "pools", "nodes", "jobs", "tasks", "expect"}, "scenario");
  Scenario s;
  s.description = j.at("description").get<std::string>();
  if (j.contains("policy")) s.policy = read_policy(j.at("policy"));
  for (const json& pool : j.at("pools")) s.cluster.pools.push_back(read_pool(pool));
  for (const json& node : j.value("nodes", json::array()))
    s.cluster.nodes.push_back(read_node(node));
  for (const json& job : j.value("jobs", json::array())) {
    check_keys(job, {"id", "maxParallelTasks", "runningTasks"}, "job");
    s.cluster.jobs.push_back(JobSnapshot{job.at("id").get<std::string>(),
                                         job.value("maxParallelTasks", -1),
                                         job.value("runningTasks", 0)});
  }
  for (const json& task : j.at("tasks")) s.tasks.push_back(read_task(task));
  std::stable_sort(s.tasks.begin(), s.tasks.end(), placement_order);
  const json& expect = j.at("expect");
  check_keys(expect, {"assignments", "reservations", "pending", "tasksExamined"}, "expect");
  s.assignments = read_named_nodes(expect.value("assignments", json::array()), "assignment");
  s.reservations = read_named_nodes(expect.value("reservations", json::array()), "reservation");
  for (const json& p : expect.value("pending", json::array())) s.pending.push_back(read_pending(p));
  if (expect.contains("tasksExamined")) {
    s.tasks_examined = expect.at("tasksExamined").get<std::size_t>();
  }
  return s;
}

}  // namespace

Result<Scenario> load_scenario(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return errors::internal("cannot open " + path.string());
  try {
    return read_scenario(json::parse(in));
  } catch (const std::exception& e) {
    return errors::invalid_body(path.filename().string() + ": " + e.what());
  }
}

}  // namespace openbatch::placement::testing
