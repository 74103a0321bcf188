// GroupCommit: one posted flush per turn, then the actions that waited for it.
#include "node_agent/state/group_commit.hpp"

#include <boost/asio/post.hpp>

#include <utility>

namespace openbatch::agent::state {

GroupCommit::GroupCommit(boost::asio::any_io_executor executor, Journal& journal,
                         ErrorHandler on_error, Action after_batch,
                         std::chrono::milliseconds lazy_delay)
    : executor_(std::move(executor)),
      journal_(journal),
      on_error_(std::move(on_error)),
      after_batch_(std::move(after_batch)),
      lazy_delay_(lazy_delay),
      lazy_timer_(executor_) {}

void GroupCommit::after_durable(Action fn) {
  waiting_.push_back(std::move(fn));
  if (posted_) return;
  posted_ = true;
  boost::asio::post(executor_, [this] { run_flush(); });
}

void GroupCommit::eventually() {
  // One timer for every lazy record of the window; a forced flush meanwhile leaves it
  // nothing to do.
  if (lazy_armed_) return;
  lazy_armed_ = true;
  lazy_timer_.expires_after(lazy_delay_);
  lazy_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: `this` may be gone
    lazy_armed_ = false;
    if (journal_.dirty() && !posted_) run_flush();
  });
}

void GroupCommit::flush_now() { run_flush(); }

void GroupCommit::run_flush() {
  posted_ = false;
  if (auto st = journal_.flush(); !st) {
    waiting_.clear();
    on_error_(st.error());
    return;
  }
  // Actions may queue more work (a report appended from an action): that goes to a new batch.
  std::vector<Action> batch = std::move(waiting_);
  waiting_.clear();
  for (auto& fn : batch) fn();
  if (after_batch_ && !batch.empty()) after_batch_();
}

}  // namespace openbatch::agent::state
