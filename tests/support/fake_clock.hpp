// FakeClock: a Clock whose time moves only when a test advances it. Thread-safe.
#pragma once

#include "common/clock.hpp"

#include <atomic>

namespace openbatch::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000)))
      : now_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  // Moves with now(): advance() moves both.
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            TimePoint::duration(now_.load())));
  }
  void advance(TimePoint::duration d) { now_ += d.count(); }

 private:
  std::atomic<TimePoint::rep> now_;
};

}  // namespace openbatch::testing
