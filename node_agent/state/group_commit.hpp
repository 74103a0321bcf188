// GroupCommit: runs actions once the journal records appended before them are durable, with
// one flush per event-loop turn however many records and actions the turn produced.
//
// after_durable(fn) queues fn and, when no flush is pending, posts one to the executor; the
// posted flush runs after the handlers already queued (the rest of this turn's frames and
// child exits), writes the journal with one fdatasync and then runs every queued fn in order,
// then the batch hook (the agent sends its acks for the batch there, as one frame). A flush
// error goes to the error handler and the queued actions are dropped: nothing that depended
// on durability happens.
//
// Thread-safety: none; use from the executor's single thread.
#pragma once

#include "common/error.hpp"
#include "node_agent/state/journal.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <vector>

namespace openbatch::agent::state {

class GroupCommit {
 public:
  using Action = std::function<void()>;
  using ErrorHandler = std::function<void(const Error&)>;

  GroupCommit(boost::asio::any_io_executor executor, Journal& journal, ErrorHandler on_error,
              Action after_batch = {});

  // Runs `fn` after the next flush (posting one when none is pending).
  void after_durable(Action fn);

  // Flushes now and runs the queued actions (the posted flush then finds nothing to do).
  void flush_now();

  bool pending() const { return posted_; }

 private:
  void run_flush();

  boost::asio::any_io_executor executor_;
  Journal& journal_;
  ErrorHandler on_error_;
  Action after_batch_;
  std::vector<Action> waiting_;
  bool posted_ = false;
};

}  // namespace openbatch::agent::state
