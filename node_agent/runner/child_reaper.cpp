// SIGCHLD-driven reaping (see child_reaper.hpp).
#include "node_agent/runner/child_reaper.hpp"

#include <cerrno>
#include <signal.h>
#include <sys/wait.h>

namespace openbatch::agent::runner {

ChildReaper::ChildReaper(boost::asio::io_context& io, OnExit on_exit)
    : signals_(io, SIGCHLD), on_exit_(std::move(on_exit)) {
  arm();
}

void ChildReaper::arm() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;  // cancelled: the reaper is being destroyed
    reap_now();
    arm();
  });
}

void ChildReaper::reap_now() {
  while (true) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      on_exit_(pid, status);
      continue;
    }
    if (pid < 0 && errno == EINTR) continue;
    return;  // 0: children left but none exited; -1/ECHILD: no children at all
  }
}

}  // namespace openbatch::agent::runner
