// Clock: the one source of "now" for code that decides by time (timeouts, ETags, state
// transition times). Tests pass a FakeClock (tests/support/fake_clock.hpp).
#pragma once

#include <chrono>

namespace openbatch {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Monotonic time, for intervals (liveness): never jumps with the wall clock.
  virtual std::chrono::steady_clock::time_point steady_now() const {
    return std::chrono::steady_clock::now();
  }
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace openbatch
