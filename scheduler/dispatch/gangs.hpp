// Gangs: multi-instance tasks after dispatch (batch-api.md section 11). Every instance runs
// its coordination command; each one that exits 0 sends a "coordinated" report, which is made
// durable on the instance's own row (cluster/gang_rows.hpp: coordinated, the subtask running)
// before it is acked.
// Once all N are coordinated the primary gets startApplication. Whichever instance ends first
// while the task runs decides the task (agents/reports.cpp); then end() stops the rest. A lost
// instance requeues the task through its primary's id (agents/attempt_ends.cpp).
#pragma once

#include "scheduler/cluster/context.hpp"

#include <string>

namespace openbatch::dispatch {

class Gangs {
 public:
  explicit Gangs(cluster::Context& ctx) : ctx_(ctx) {}

  // After a restart: the gangs' sizes and coordination come from their tasks. A gang whose
  // task no longer runs it has ended.
  void load_states(store::Reader& reader);
  // Cancels every instance of the gang still here, except `except`.
  void cancel(const std::string& primary, protocol::CancelReason reason,
              const std::string& except = {});
  // The gang's task has its outcome (completed, retried, requeued): the instances still
  // running are stopped.
  void end(const std::string& primary, protocol::CancelReason reason);
  void handle_coordinated(cluster::NodeInfo& node, protocol::Report report, uint64_t seq);
  // After a hello: primaries that may start get startApplication again (idempotent there),
  // and instances of gangs that ended meanwhile (or before a scheduler restart) are stopped.
  void resend_start_applications(cluster::NodeInfo& node);

 private:
  void on_coordinated(const std::string& node_id, const std::string& primary, std::size_t k,
                      uint64_t seq, bool ok);
  void maybe_start_application(cluster::GangInfo& gang);

  cluster::Context& ctx_;
};

}  // namespace openbatch::dispatch
