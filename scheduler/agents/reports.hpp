// Reports: completion reports, applied exactly once (agent-protocol.md section 4). Reports that
// arrive together -- within one turn of the strand, from any number of links -- are applied
// in ONE store op: each task is moved on only if the report names its current attempt, each
// node's attempt list is read and written once for the batch, and every report is acked (one
// ack frame per node) only after the commit is durable.
#pragma once

#include "scheduler/agents/attempt_ends.hpp"
#include "scheduler/cluster/context.hpp"
#include "scheduler/domain/states.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace openbatch::agents {

// A completion report waiting for the next batched commit.
struct QueuedReport {
  std::string node_id;
  std::string pool_id;
  uint64_t seq = 0;
  protocol::Report report;
  cluster::AttemptInfo info;
  // Filled by the commit.
  bool task_changed = false;
  bool retried = false;  // the task went back to active for a retry
  int64_t task_seq = 0;
  nlohmann::json task;
};

class Reports {
 public:
  Reports(cluster::Context& ctx, AttemptEnds& ends) : ctx_(ctx), ends_(ends) {}

  void handle(cluster::NodeInfo& node, protocol::Report report, uint64_t seq);

 private:
  using Batch = std::shared_ptr<std::vector<QueuedReport>>;
  using NodeStates = std::shared_ptr<std::map<std::string, domain::NodeState>>;
  void flush();
  void retry_later(const Batch& batch);
  void fail_links(const Batch& batch);
  void apply_committed(const Batch& batch, const NodeStates& node_states);

  cluster::Context& ctx_;
  AttemptEnds& ends_;
  bool flush_scheduled_ = false;
  std::vector<QueuedReport> batch_;
};

}  // namespace openbatch::agents
