// A placement round's plan, as a pure function of the cluster model: per pool with free slots,
// the head of its queue (bounded by the free slots, never the whole backlog) goes through
// placement::place(); what it places becomes a Dispatch, and what it cannot place for a reason
// other than busy slots becomes a pending-reason write. Nothing is reserved or written here
// (Dispatcher does that), so a plan is unit-testable on a hand-built ClusterModel.
#pragma once

#include "common/protocol/agent_protocol.hpp"
#include "scheduler/cluster/cluster_model.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace openbatch::dispatch {

struct Dispatch {
  std::string job_id;
  std::string pool_id;
  std::string node_id;
  cluster::PendingItem item;
  int slots_per_node = 1;
  nlohmann::json job_environment;
  // A multi-instance task: its N nodes, [0] the primary's (node_id), and the token its
  // instances accept from each other's launcher. Empty for a plain task.
  struct Member {
    std::string node_id;
    std::string url;
    std::string address;
    std::string hostname;
    int exec_port = 0;
    nlohmann::json network;
  };
  std::vector<Member> members;
  std::string exec_token;
  // Filled by the commit.
  bool committed = false;
  bool still_pending = false;  // not committed, but the task is still active in the store
  std::string attempt_id;
  protocol::Assignment assignment;
  std::vector<protocol::Assignment> instances;  // a gang's, by subtask id
};

// "Why is my task pending" (openbatch.pendingReason {code, message}) for one task.
struct PendingReasonWrite {
  std::string job_id, task_id, code, message;
};

struct RoundPlan {
  std::vector<Dispatch> dispatches;
  std::vector<PendingReasonWrite> reasons;
};

struct RoundLimits {
  std::size_t max_dispatch_per_round = 2048;
  std::string account_url;  // for the members' node urls
};

RoundPlan plan_round(const cluster::ClusterModel& model, const RoundLimits& limits);

}  // namespace openbatch::dispatch
