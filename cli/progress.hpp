// Progress of `task wait` / `job wait`: task counts, the completion rate over a sliding
// window, the ETA, the one-line rendering, and when to write it (redrawn in place with '\r'
// on a terminal, a new line every few seconds otherwise). Pure: callers pass "now" as
// seconds since the wait began. Not thread-safe (one waiter owns these objects).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

namespace openbatch::cli {

struct TaskCounts {
  std::int64_t active = 0;     // queued, not yet on a node
  std::int64_t running = 0;    // preparing or running
  std::int64_t completed = 0;  // succeeded or failed
  std::int64_t failed = 0;     // completed with result failure (part of completed)

  std::int64_t total() const { return active + running + completed; }
  std::int64_t remaining() const { return active + running; }
  bool operator==(const TaskCounts&) const = default;
};

// Completed tasks per second over the last `window_seconds` of samples.
class RateEstimator {
 public:
  explicit RateEstimator(double window_seconds = 60.0) : window_(window_seconds) {}

  // Records that `completed` tasks were done at `now` (seconds, non-decreasing).
  void add(double now, std::int64_t completed);

  // Tasks per second between the oldest sample in the window and the newest; nullopt until
  // two samples at different times exist. Never negative (a reactivated task lowers the
  // count; that reads as 0).
  std::optional<double> rate() const;

 private:
  double window_;
  std::deque<std::pair<double, std::int64_t>> samples_;
};

// Seconds until `remaining` tasks are done at `rate`; nullopt without a positive rate.
std::optional<double> eta_seconds(std::int64_t remaining, std::optional<double> rate);

// "42s", "3m05s", "2h03m", "4d06h"; "--" when unknown.
std::string format_eta(std::optional<double> seconds);

// "12.5 tasks/s" (one decimal below 100, none above); "-- tasks/s" when unknown.
std::string format_rate(std::optional<double> rate);

// "[#########---------------] 120/250 done (48%)  running 8  failed 2  3.1 tasks/s  ETA 42s";
// no bar when bar_width is 0.
std::string render_progress(const TaskCounts& counts, std::optional<double> rate,
                            int bar_width = 24);

// render_progress fitted to a terminal `columns` wide (0: unknown, use the default bar): the
// bar shrinks, then goes, then the text is cut, so a redrawn line never wraps.
std::string fit_progress(const TaskCounts& counts, std::optional<double> rate, int columns);

// Decides what to write for each poll result.
class ProgressPrinter {
 public:
  // tty: redraw one line with '\r' (and erase to its end) on every update, fitted to
  // `columns` (0: unknown); otherwise print a line when `every_seconds` have passed since the
  // last one.
  ProgressPrinter(bool tty, double every_seconds, int columns = 0)
      : tty_(tty), every_(every_seconds), columns_(columns) {}

  // The text to write for the counts at `now` (possibly ""). `final` forces the last line,
  // which always ends with '\n'.
  std::string update(double now, const TaskCounts& counts, bool final);

 private:
  bool tty_;
  double every_;
  int columns_;
  std::optional<double> last_print_;
  RateEstimator rate_;
};

}  // namespace openbatch::cli
