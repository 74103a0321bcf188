// Dispatcher: placement rounds on the strand. A round plans (plan_round, pure), reserves the
// planned slots in the model, commits all of the round's dispatches in ONE store op
// (commit_round re-checks each task and node), and only then sends the committed assignments
// to the agents; what did not commit gets its reservation back. Rounds are coalesced: many
// wake-ups in one strand turn make one round.
#pragma once

#include "scheduler/cluster/context.hpp"
#include "scheduler/dispatch/round_plan.hpp"

#include <map>
#include <string>
#include <vector>

namespace openbatch::dispatch {

class Dispatcher {
 public:
  explicit Dispatcher(cluster::Context& ctx) : ctx_(ctx) {}

  void schedule_round();

 private:
  using Sends = std::map<std::string, std::vector<protocol::Assignment>>;
  void run_round();
  // The plan's slots and tasks taken in the model until the commit says otherwise.
  void reserve(std::vector<Dispatch>& dispatches);
  void note_reasons(const std::vector<PendingReasonWrite>& reasons);
  void commit(std::vector<Dispatch> dispatches);
  void write_pending_reasons(std::vector<PendingReasonWrite> writes);
  void on_committed(std::vector<Dispatch>& batch, bool ok);
  void record_gang(Dispatch& d, Sends& to_send);
  void record_single(Dispatch& d, Sends& to_send);
  void release(const Dispatch& d, bool ok);

  cluster::Context& ctx_;
  bool round_scheduled_ = false;
};

}  // namespace openbatch::dispatch
