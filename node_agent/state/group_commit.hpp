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
// eventually() is for records that gate nothing (a "started" record, an "acked" record): they
// ride whatever flush comes next, the one an assignment or a report forces, instead of forcing
// one of their own. A timer flushes them within `lazy_delay` when no such flush comes (an idle
// node with a long task), so a crash loses at most that window of them. Losing a "started"
// record means recovery cannot kill that orphaned group (the attempt is still abandoned and
// never reported); losing an "acked" record only resends a report, which the scheduler
// applies once.
//
// Thread-safety: none; use from the executor's single thread.
#pragma once

#include "common/error.hpp"
#include "node_agent/state/journal.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <vector>

namespace openbatch::agent::state {

class GroupCommit {
 public:
  using Action = std::function<void()>;
  using ErrorHandler = std::function<void(const Error&)>;

  static constexpr std::chrono::milliseconds kDefaultLazyDelay{100};

  GroupCommit(boost::asio::any_io_executor executor, Journal& journal, ErrorHandler on_error,
              Action after_batch = {}, std::chrono::milliseconds lazy_delay = kDefaultLazyDelay);

  // Runs `fn` after the next flush (posting one when none is pending).
  void after_durable(Action fn);

  // What was appended so far becomes durable with the next flush, at the latest `lazy_delay`
  // from now; nothing waits for it.
  void eventually();

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
  std::chrono::milliseconds lazy_delay_;
  boost::asio::steady_timer lazy_timer_;
  bool lazy_armed_ = false;
};

}  // namespace openbatch::agent::state
