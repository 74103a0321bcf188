// ModelFeed: keeps the cluster model current with the store. load() reads it at start; the
// change feed (store::ChangeObserver) then brings what the API routes and the lifecycle
// sweeper commit -- pools resized or deleted, jobs disabled or terminated, tasks added,
// reactivated or deleted, nodes removed -- and turns each into the rooms' reactions: a round,
// a reconcile, cancels, requeues.
#pragma once

#include "scheduler/agents/attempt_ends.hpp"
#include "scheduler/cluster/context.hpp"
#include "scheduler/dispatch/gangs.hpp"
#include "scheduler/provision/provisioner.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace openbatch::engine {

class ModelFeed {
 public:
  ModelFeed(cluster::Context& ctx, agents::AttemptEnds& ends, dispatch::Gangs& gangs,
            provision::Provisioner& provisioner)
      : ctx_(ctx), ends_(ends), gangs_(gangs), provisioner_(provisioner) {}

  void load();
  void apply_changes(std::vector<store::Change> changes);

 private:
  void apply_pool(const store::Record& record);
  void apply_job(const store::Record& record);
  void apply_job_state(cluster::JobInfo& job, const nlohmann::json& body);
  void requeue_attempts_of_job(const std::string& job_key);
  void apply_task(const store::Record& record);
  void apply_node(const store::Record& record);
  void adopt_attempts(cluster::NodeInfo& node, const nlohmann::json& body);
  void erase_node(const std::string& node_id);
  void erase_pool(const std::string& id);
  void erase_job(const std::string& id);
  void erase_task(const std::string& job_id, const std::string& task_id);
  void erase_tasks_of_job(const std::string& job_id);

  cluster::Context& ctx_;
  agents::AttemptEnds& ends_;
  dispatch::Gangs& gangs_;
  provision::Provisioner& provisioner_;
};

}  // namespace openbatch::engine
