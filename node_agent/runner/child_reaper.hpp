// ChildReaper: collects every exited child of the agent without a thread per child: an
// asio::signal_set on SIGCHLD wakes the event loop, which then reaps with waitpid(-1, WNOHANG)
// until nothing is left (signals coalesce, so one wake-up may stand for many exits). Each
// exit goes to the callback with the raw wait status.
//
// It reaps *every* child, so nothing else in the process may wait for a specific pid while it
// runs -- except PosixLauncher::launch's own wait for a child whose exec failed, which happens
// synchronously within one event-loop turn, before this handler can run.
// Thread-safety: none; the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <functional>
#include <sys/types.h>

namespace openbatch::agent::runner {

class ChildReaper {
 public:
  using OnExit = std::function<void(pid_t pid, int wait_status)>;

  ChildReaper(boost::asio::io_context& io, OnExit on_exit);
  // Reaps whatever already exited (a SIGCHLD may predate the signal_set).
  void reap_now();

 private:
  void arm();

  boost::asio::signal_set signals_;
  OnExit on_exit_;
};

}  // namespace openbatch::agent::runner
