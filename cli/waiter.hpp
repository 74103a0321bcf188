// The polling loop of `task wait` and `job wait`: polls a source of task counts until no task
// is active or running (or the source says it is finished, e.g. the job completed), writing
// progress (progress.hpp) as it goes, and gives up after an optional timeout.
//
// Blocking; runs on the calling thread and sleeps between polls.
#pragma once

#include "cli/progress.hpp"
#include "common/error.hpp"

#include <functional>
#include <iosfwd>
#include <string>

namespace openbatch::cli {

struct WaitState {
  TaskCounts counts;
  bool finished = false;  // stop even though tasks remain (they will never run)
  std::string reason;     // why, when finished early ("job completed (UserTerminate)")
};

using WaitPoll = std::function<Result<WaitState>()>;

struct WaitOptions {
  double interval_seconds = 2.0;  // between polls
  double timeout_seconds = 0.0;   // 0: wait forever
  bool tty = false;               // redraw one line instead of printing lines
  int columns = 0;                // the terminal's width when tty (0: unknown)
  double line_every_seconds = 5.0;
};

// The last state polled once settled; the poll's Error, or "WaitTimedOut" (status 0) after
// the timeout. Progress goes to `progress`.
Result<WaitState> wait_until_settled(const WaitPoll& poll, const WaitOptions& options,
                                     std::ostream& progress);

}  // namespace openbatch::cli
