#include "scheduler/api/services.hpp"

#include <chrono>
#include <cstdio>

namespace openbatch::api {

std::string EtagGenerator::next() {
  // .NET ticks: 100 ns units since 0001-01-01; Unix epoch is 621355968000000000 ticks.
  constexpr uint64_t kUnixEpochTicks = 621355968000000000ULL;
  auto since_epoch = clock_.now().time_since_epoch();
  uint64_t ticks =
      kUnixEpochTicks +
      static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count() / 100);
  uint64_t prev = last_.load(std::memory_order_relaxed);
  uint64_t next_value = 0;
  do {
    next_value = ticks > prev ? ticks : prev + 1;
  } while (!last_.compare_exchange_weak(prev, next_value, std::memory_order_relaxed));
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llX", static_cast<unsigned long long>(next_value));
  return buf;
}

}  // namespace openbatch::api
