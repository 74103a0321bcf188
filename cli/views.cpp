// Columns and fields per entity (see views.hpp). Paths follow the Azure Batch wire shapes
// (batch-api.md sections 2-6).
#include "cli/views.hpp"

#include "cli/json_fields.hpp"

namespace openbatch::cli {
namespace {

using nlohmann::json;

Column at(std::string header, std::string path) {
  return {std::move(header), [path = std::move(path)](const json& e) { return text_at(e, path); }};
}

std::string nodes_cell(const json& pool, std::string_view current, std::string_view target) {
  return std::to_string(int_at(pool, current)) + "/" + std::to_string(int_at(pool, target));
}

std::string image_cell(const json& pool) {
  const json* ref = find_path(pool, "virtualMachineConfiguration/imageReference");
  if (ref == nullptr) return {};
  if (auto id = text_at(*ref, "virtualMachineImageId"); !id.empty()) return id;
  std::string out;
  for (const char* part : {"publisher", "offer", "sku", "version"}) {
    const std::string v = text_at(*ref, part);
    if (v.empty()) continue;
    if (!out.empty()) out += ' ';
    out += v;
  }
  return out;
}

// "ResizeError: message" per resize error, one per line.
std::string coded_list(const json& entity, std::string_view path) {
  const json* list = find_path(entity, path);
  if (list == nullptr || !list->is_array()) return {};
  std::string out;
  for (const auto& e : *list) {
    if (!out.empty()) out += '\n';
    out += text_at(e, "code");
    if (auto m = text_at(e, "message"); !m.empty()) out += ": " + m;
  }
  return out;
}

std::string failure_cell(const json& task, std::string_view info_path) {
  const json* info = find_path(task, info_path);
  if (info == nullptr) return {};
  std::string out = text_at(*info, "code");
  if (auto m = text_at(*info, "message"); !m.empty()) out += (out.empty() ? "" : ": ") + m;
  return out;
}

std::string versions_cell(const json& app) {
  const json* versions = find_path(app, "versions");
  if (versions == nullptr || !versions->is_array()) return {};
  std::string out;
  for (const auto& v : *versions) {
    if (!out.empty()) out += ", ";
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

std::string size_cell(const json& file) {
  if (bool_at(file, "isDirectory")) return {};
  return text_at(file, "properties/contentLength");
}

}  // namespace

const EntityView& pool_view() {
  static const EntityView kView{
      {at("ID", "id"),
       at("STATE", "state"),
       at("ALLOCATION", "allocationState"),
       at("VM SIZE", "vmSize"),
       {"NODES",
        [](const json& p) {
          return nodes_cell(p, "currentDedicatedNodes", "targetDedicatedNodes");
        }},
       at("SLOTS", "taskSlotsPerNode")},
      {at("ID", "id"),
       at("Display name", "displayName"),
       at("State", "state"),
       at("Allocation state", "allocationState"),
       at("VM size", "vmSize"),
       {"Image", image_cell},
       at("Node agent SKU", "virtualMachineConfiguration/nodeAgentSKUId"),
       {"Dedicated nodes",
        [](const json& p) {
          return nodes_cell(p, "currentDedicatedNodes", "targetDedicatedNodes");
        }},
       {"Low-priority nodes",
        [](const json& p) {
          return nodes_cell(p, "currentLowPriorityNodes", "targetLowPriorityNodes");
        }},
       at("Task slots per node", "taskSlotsPerNode"),
       at("Node fill type", "taskSchedulingPolicy/nodeFillType"),
       at("Inter-node communication", "enableInterNodeCommunication"),
       at("Start task", "startTask/commandLine"),
       {"Resize errors", [](const json& p) { return coded_list(p, "resizeErrors"); }},
       at("Created", "creationTime"),
       at("Last modified", "lastModified")}};
  return kView;
}

const EntityView& job_view() {
  static const EntityView kView{
      {at("ID", "id"), at("STATE", "state"), at("POOL", "poolInfo/poolId"),
       at("PRIORITY", "priority"), at("CREATED", "creationTime")},
      {at("ID", "id"),
       at("Display name", "displayName"),
       at("State", "state"),
       at("Pool", "poolInfo/poolId"),
       at("Priority", "priority"),
       at("Max parallel tasks", "maxParallelTasks"),
       at("On all tasks complete", "onAllTasksComplete"),
       at("On task failure", "onTaskFailure"),
       at("Terminate reason", "executionInfo/terminateReason"),
       {"Scheduling error",
        [](const json& j) { return failure_cell(j, "executionInfo/schedulingError"); }},
       at("Created", "creationTime"),
       at("Started", "executionInfo/startTime"),
       at("Ended", "executionInfo/endTime")}};
  return kView;
}

const EntityView& task_view() {
  static const EntityView kView{
      {at("ID", "id"),
       at("STATE", "state"),
       at("RESULT", "executionInfo/result"),
       at("EXIT", "executionInfo/exitCode"),
       at("RETRIES", "executionInfo/retryCount"),
       at("NODE", "nodeInfo/nodeId"),
       {"COMMAND", [](const json& t) { return truncate(text_at(t, "commandLine"), 60); }}},
      {at("ID", "id"),
       at("Display name", "displayName"),
       at("State", "state"),
       at("Command line", "commandLine"),
       at("Result", "executionInfo/result"),
       at("Exit code", "executionInfo/exitCode"),
       {"Failure", [](const json& t) { return failure_cell(t, "executionInfo/failureInfo"); }},
       at("Retries", "executionInfo/retryCount"),
       at("Requeues", "executionInfo/requeueCount"),
       at("Required slots", "requiredSlots"),
       at("Pool", "nodeInfo/poolId"),
       at("Node", "nodeInfo/nodeId"),
       at("Task directory", "nodeInfo/taskRootDirectory"),
       at("Created", "creationTime"),
       at("Started", "executionInfo/startTime"),
       at("Ended", "executionInfo/endTime"),
       at("Instances", "multiInstanceSettings/numberOfInstances"),
       at("Pending reason", "openbatch/pendingReason/message"),
       {"MPI transport", [](const json& t) {
          const std::string kind = text_at(t, "openbatch/mpiTransport/kind");
          const std::string reason = text_at(t, "openbatch/mpiTransport/reason");
          return kind.empty() ? kind : kind + (reason.empty() ? "" : " (" + reason + ")");
        }}}};
  return kView;
}

const EntityView& subtask_view() {
  static const EntityView kView{
      {at("ID", "id"),
       at("STATE", "state"),
       at("RESULT", "result"),
       at("EXIT", "exitCode"),
       at("NODE", "nodeInfo/nodeId"),
       at("DIRECTORY", "nodeInfo/taskRootDirectory"),
       {"FAILURE", [](const json& s) { return failure_cell(s, "failureInfo"); }}},
      {}};
  return kView;
}

const EntityView& node_view() {
  static const EntityView kView{
      {at("ID", "id"), at("STATE", "state"), at("SCHEDULING", "schedulingState"),
       at("IP", "ipAddress"), at("VM SIZE", "vmSize"), at("RUNNING", "runningTasksCount"),
       at("TOTAL RUN", "totalTasksRun")},
      {at("ID", "id"),
       at("State", "state"),
       at("Scheduling", "schedulingState"),
       at("IP address", "ipAddress"),
       at("VM size", "vmSize"),
       at("Running tasks", "runningTasksCount"),
       at("Running slots", "runningTaskSlotsCount"),
       at("Tasks run", "totalTasksRun"),
       at("Tasks succeeded", "totalTasksSucceeded"),
       at("Start task state", "startTaskInfo/state"),
       at("Start task exit code", "startTaskInfo/exitCode"),
       {"Start task failure",
        [](const json& n) { return failure_cell(n, "startTaskInfo/failureInfo"); }},
       {"Errors", [](const json& n) { return coded_list(n, "errors"); }},
       at("Agent version", "nodeAgentInfo/version"),
       at("Allocated", "allocationTime"),
       at("Last boot", "lastBootTime")}};
  return kView;
}

const EntityView& file_view() {
  static const EntityView kView{
      {at("NAME", "name"),
       {"TYPE",
        [](const json& f) { return std::string(bool_at(f, "isDirectory") ? "dir" : "file"); }},
       {"SIZE", size_cell},
       at("MODIFIED", "properties/lastModified")},
      {}};
  return kView;
}

const EntityView& application_view() {
  static const EntityView kView{
      {at("ID", "id"), at("DISPLAY NAME", "displayName"), {"VERSIONS", versions_cell}},
      {at("ID", "id"), at("Display name", "displayName"), {"Versions", versions_cell}}};
  return kView;
}

const EntityView& application_versions_view() {
  static const EntityView kView{
      {at("VERSION", "version"), at("STATE", "state"), at("SIZE", "size"), at("SHA256", "sha256"),
       at("ACTIVATED", "lastActivationTime")},
      {at("ID", "applicationId"), at("Display name", "displayName"),
       at("Default version", "defaultVersion"), at("Allow updates", "allowUpdates")}};
  return kView;
}

Table list_table(const EntityView& view, const json& entities) {
  std::vector<std::string> headers;
  for (const auto& c : view.columns) headers.push_back(c.header);
  Table table(std::move(headers));
  if (!entities.is_array()) return table;
  for (const auto& e : entities) {
    if (!e.is_object()) continue;
    std::vector<std::string> cells;
    for (const auto& c : view.columns) cells.push_back(c.cell(e));
    table.add_row(std::move(cells));
  }
  return table;
}

std::vector<std::pair<std::string, std::string>> entity_fields(const EntityView& view,
                                                               const json& entity) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : view.fields) {
    std::string v = f.cell(entity);
    if (!v.empty()) out.emplace_back(f.header, std::move(v));
  }
  return out;
}

}  // namespace openbatch::cli
