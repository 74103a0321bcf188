// AttemptEnds: how attempts end other than by their own report -- requeued (node lost, node
// leaving, job disabled with requeue, assignment lost), cancelled (task terminated or deleted,
// job ended) -- and what follows every end: the attempt forgotten once its commit is durable,
// its task back in the queue when it went back to active, and the job terminated when it was
// the last one of a terminatejob job.
#pragma once

#include "scheduler/cluster/context.hpp"

#include <optional>
#include <string>
#include <vector>

namespace openbatch::agents {

class AttemptEnds {
 public:
  explicit AttemptEnds(cluster::Context& ctx) : ctx_(ctx) {}

  // Moves the attempts' tasks back to active (requeueCount + 1) and off the node, in one op;
  // optionally sets the node's state and tells the agent to stop them.
  void requeue(const std::string& node_id, std::vector<std::string> attempt_ids,
               std::optional<domain::NodeState> node_state,
               std::optional<protocol::CancelReason> cancel);
  void cancel(const std::string& attempt_id, protocol::CancelReason reason);
  void cancel_of_job(const std::string& job_id, protocol::CancelReason reason);
  // Drops a finished attempt from the model once its commit is durable (it is off its node and
  // its task moved on in the store): slots, job counts, and the task back in the queue when
  // the commit made it active again (`task.changed`).
  void forget(const std::string& attempt_id, const cluster::AttemptInfo& info,
              const cluster::RequeuedTask& task);
  // A terminatejob job with nothing pending or running left is terminated (the store decides).
  void maybe_finish_job(const std::string& job_key);

 private:
  struct Requeue;
  void on_requeued(const Requeue& requeue, bool ok);

  cluster::Context& ctx_;
};

}  // namespace openbatch::agents
