#include "scheduler/dispatch/round_commit.hpp"

#include "common/protocol/environment_settings.hpp"
#include "scheduler/cluster/attempt_writes.hpp"
#include "scheduler/cluster/gang_rows.hpp"
#include "scheduler/dispatch/mpi_transport.hpp"
#include "scheduler/domain/entity_state.hpp"
#include "scheduler/domain/gang_execution.hpp"
#include "scheduler/domain/node_record.hpp"
#include "scheduler/domain/states.hpp"
#include "scheduler/domain/task_execution.hpp"
#include "scheduler/packages/resolution.hpp"

#include <spdlog/spdlog.h>

#include <map>

namespace openbatch::dispatch {
// The stored entities' pure transitions (scheduler/domain/).
using namespace domain;  // NOLINT(google-build-using-namespace)
using cluster::dump_entity;
using nlohmann::json;
using store::Table;

namespace {

// The node records a commit edits, each read and parsed once and written once at the end.
class NodeEdits {
 public:
  struct Edit {
    store::Record record;
    json body;
    bool dirty = false;
  };
  explicit NodeEdits(store::Writer& w) : w_(w) {}

  Edit* of(const std::string& pool_id, const std::string& node_id) {
    auto it = edits_.find(node_id);
    if (it == edits_.end()) {
      auto record = w_.get(Table::Nodes, pool_id, node_id);
      if (!record) return nullptr;
      Edit edit{std::move(*record), json(), false};
      edit.body = json::parse(edit.record.body, nullptr, false);
      it = edits_.emplace(node_id, std::move(edit)).first;
    }
    return &it->second;
  }

  bool write() {
    for (auto& [id, node] : edits_) {
      if (!node.dirty) continue;
      node.record.state = node.body.value("state", node.record.state);
      node.record.body = dump_entity(node.body);
      if (!w_.update(Table::Nodes, node.record)) return false;
    }
    return true;
  }

 private:
  store::Writer& w_;
  std::map<std::string, Edit> edits_;
};

bool node_up(const json& body) {
  const auto state = node_state(body);
  return state && node_is_up(*state);
}

// The packages the agent installs for the task. Azure fails a task whose package is missing
// with a pre-processing error: the null digest, which no package has, makes the agent's install
// fail with the reference in the message.
void attach_packages(store::Writer& w, const json& running, protocol::Assignment& assignment,
                     const std::string& job_id, const std::string& task_id, bool warn) {
  auto refs = running.find("applicationPackageReferences");
  if (refs == running.end() || refs->empty()) return;
  packages::ResolvedPackages packages = packages::resolve_packages(w, *refs);
  for (const auto& [app, version] : packages.unresolved) {
    if (warn) {
      spdlog::warn("task {}/{}: application package {} {} is not available", job_id, task_id, app,
                   version);
    }
    packages.packages.push_back({app, version, std::string(64, '0'), 0, false});
  }
  assignment.application_packages = std::move(packages.packages);
}

bool finish_commit(store::Writer& w, Dispatch& d, store::Record& task_record, const json& running,
                   std::string attempt_id) {
  task_record.state = to_string(TaskState::Running);
  task_record.body = dump_entity(running);
  if (!w.update(Table::Tasks, task_record)) return false;
  d.attempt_id = std::move(attempt_id);
  d.committed = true;
  d.still_pending = false;
  return true;
}

// One plain dispatch. The durable capacity check: the node's committed attempts plus this one
// must fit.
bool commit_single(store::Writer& w, Dispatch& d, store::Record& task_record, NodeEdits& edits,
                   TimePoint now, const std::string& account_url) {
  NodeEdits::Edit* node = edits.of(d.pool_id, d.node_id);
  if (!node || !node_up(node->body)) return true;
  auto task = json::parse(task_record.body, nullptr, false);
  if (!task.is_object()) return true;
  const std::string& job_id = task_record.parent;
  const std::string attempt_id = next_attempt_id(task, job_id, task_record.seq);
  AttemptOnNode on_node{attempt_id, job_id, task_record.id,
                        account_url + "/jobs/" + job_id + "/tasks/" + task_record.id,
                        d.item.required_slots};
  if (!add_attempt(node->body, on_node, d.slots_per_node, now)) return true;
  node->dirty = true;
  const std::string node_url = account_url + "/pools/" + d.pool_id + "/nodes/" + d.node_id;
  json running =
      dispatch_task(std::move(task), job_id, {d.pool_id, d.node_id, node_url}, attempt_id, now);
  d.assignment = make_assignment(running, job_id, d.job_environment, attempt_id);
  attach_packages(w, running, d.assignment, job_id, task_record.id, true);
  return finish_commit(w, d, task_record, running, attempt_id);
}

// Adds instance k's attempt to a copy of each member node's record: all N fit, or none is
// touched. The attempt ids by subtask, empty when one does not fit.
std::vector<std::string> reserve_members(Dispatch& d, NodeEdits& edits, const std::string& primary,
                                         const std::string& job_id, const std::string& task_id,
                                         TimePoint now, const std::string& account_url,
                                         std::vector<DispatchTarget>& targets) {
  const std::string task_url = account_url + "/jobs/" + job_id + "/tasks/" + task_id;
  std::vector<json> bodies;
  std::vector<std::string> ids;
  for (std::size_t k = 0; k < d.members.size(); ++k) {
    const auto& m = d.members[k];
    NodeEdits::Edit* node = edits.of(d.pool_id, m.node_id);
    if (node == nullptr || !node->body.is_object() || !node_up(node->body)) return {};
    json body = node->body;
    const int subtask = static_cast<int>(k);
    AttemptOnNode on_node{instance_attempt_id(primary, subtask),
                          job_id,
                          task_id,
                          task_url,
                          d.item.required_slots,
                          subtask};
    if (!add_attempt(body, on_node, d.slots_per_node, now)) return {};
    bodies.push_back(std::move(body));
    ids.push_back(on_node.attempt_id);
    targets.push_back({d.pool_id, m.node_id, m.url});
  }
  for (std::size_t k = 0; k < d.members.size(); ++k) {
    NodeEdits::Edit* node = edits.of(d.pool_id, d.members[k].node_id);
    node->body = std::move(bodies[k]);
    node->dirty = true;
  }
  return ids;
}

// The MPI transport from the members' inventories and the user's environment, recorded on
// the task (openbatch.mpiTransport).
MpiTransport choose_transport(const Dispatch& d, json& running) {
  std::vector<MpiNodeNet> nets;
  for (const auto& m : d.members) nets.push_back(mpi_node_net_of(m.node_id, m.address, m.network));
  std::vector<protocol::EnvironmentSetting> user_environment =
      protocol::environment_settings_of(d.job_environment);
  for (auto& s :
       protocol::environment_settings_of(running.value("environmentSettings", json::array()))) {
    user_environment.push_back(std::move(s));
  }
  MpiTransport transport = choose_mpi_transport(nets, user_environment);
  running["openbatch"]["mpiTransport"] = transport.to_json();
  return transport;
}

protocol::MultiInstance gang_settings(const Dispatch& d, const json& running,
                                      const MpiTransport& transport) {
  protocol::MultiInstance gang;
  gang.number_of_instances = static_cast<int>(d.members.size());
  if (auto mi = running.find("multiInstanceSettings"); mi != running.end() && mi->is_object()) {
    gang.coordination_command_line = mi->value("coordinationCommandLine", "");
    if (auto files = mi->find("commonResourceFiles"); files != mi->end() && files->is_array()) {
      gang.common_resource_files = *files;
    }
  }
  for (const auto& m : d.members) {
    gang.host_list.push_back(m.address);
    gang.node_list.push_back(m.node_id);
    gang.host_names.push_back(m.hostname.empty() ? m.address : m.hostname);
    gang.exec_ports.push_back(m.exec_port);
  }
  gang.exec_token = d.exec_token;
  gang.transport = transport.kind;
  return gang;
}

// One assignment per instance: the primary's downloads the resourceFiles, each carries its
// subtask id and its node's transport environment.
void make_instances(Dispatch& d, const protocol::Assignment& base, protocol::MultiInstance gang,
                    const std::vector<std::string>& ids, const MpiTransport& transport) {
  d.instances.clear();
  for (std::size_t k = 0; k < d.members.size(); ++k) {
    protocol::Assignment a = base;
    a.attempt_id = ids[k];
    if (k > 0) a.resource_files = json::array();  // the primary alone downloads resourceFiles
    gang.subtask_id = static_cast<int>(k);
    gang.transport_environment = k < transport.environment.size()
                                     ? transport.environment[k]
                                     : std::vector<protocol::EnvironmentSetting>{};
    a.multi_instance = gang;
    d.instances.push_back(std::move(a));
  }
}

// One multi-instance dispatch: all N nodes or none (each must be up and have the slot), the
// task running on the primary's node with its subtasks and transport recorded, and one
// assignment per instance.
bool commit_gang(store::Writer& w, Dispatch& d, store::Record& task_record, NodeEdits& edits,
                 TimePoint now, const std::string& account_url) {
  auto task = json::parse(task_record.body, nullptr, false);
  if (!task.is_object()) return true;
  const std::string& job_id = task_record.parent;
  const std::string& task_id = task_record.id;
  const std::string primary = next_attempt_id(task, job_id, task_record.seq);
  std::vector<DispatchTarget> targets;
  const std::vector<std::string> ids =
      reserve_members(d, edits, primary, job_id, task_id, now, account_url, targets);
  if (ids.empty()) return true;
  json running = dispatch_task(std::move(task), job_id, targets[0], primary, now);
  if (!cluster::write_gang_rows(w, job_id, task_id, targets, ids, now)) return false;
  const MpiTransport transport = choose_transport(d, running);
  protocol::Assignment base = make_assignment(running, job_id, d.job_environment, primary);
  attach_packages(w, running, base, job_id, task_id, false);
  make_instances(d, base, gang_settings(d, running, transport), ids, transport);
  return finish_commit(w, d, task_record, running, primary);
}

}  // namespace

bool commit_round(store::Writer& w, std::vector<Dispatch>& dispatches, TimePoint now,
                  const std::string& account_url) {
  NodeEdits edits(w);
  for (auto& d : dispatches) {
    d.committed = false;
    d.still_pending = false;
    auto task_record = w.get(Table::Tasks, d.job_id, d.item.task_id);
    if (!task_record || task_record->state != to_string(TaskState::Active)) continue;
    d.still_pending = true;
    const bool ok = d.members.empty() ? commit_single(w, d, *task_record, edits, now, account_url)
                                      : commit_gang(w, d, *task_record, edits, now, account_url);
    if (!ok) return false;
  }
  return edits.write();
}

}  // namespace openbatch::dispatch
