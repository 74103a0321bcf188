// The wait loop (see waiter.hpp).
#include "cli/waiter.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ostream>
#include <thread>

namespace openbatch::cli {

Result<WaitState> wait_until_settled(const WaitPoll& poll, const WaitOptions& options,
                                     std::ostream& progress) {
  using Seconds = std::chrono::duration<double>;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return Seconds(std::chrono::steady_clock::now() - start).count(); };
  ProgressPrinter printer(options.tty, options.line_every_seconds, options.columns);
  bool drawn = false;  // a tty line is on screen without its newline
  for (;;) {
    auto state = poll();
    if (!state) {
      if (drawn) progress << '\n';
      return state.error();
    }
    const bool settled = state->finished || state->counts.remaining() == 0;
    const double now = elapsed();
    const bool timed_out =
        !settled && options.timeout_seconds > 0 && now >= options.timeout_seconds;
    progress << printer.update(now, state->counts, settled || timed_out) << std::flush;
    drawn = options.tty && !(settled || timed_out);
    if (settled) return state;
    if (timed_out) {
      char limit[32];
      std::snprintf(limit, sizeof limit, "%gs", options.timeout_seconds);
      return Error(0, "WaitTimedOut", std::string("tasks still active or running after ") + limit);
    }
    double pause = options.interval_seconds;
    if (options.timeout_seconds > 0) pause = std::min(pause, options.timeout_seconds - now);
    std::this_thread::sleep_for(Seconds(pause));
  }
}

}  // namespace openbatch::cli
