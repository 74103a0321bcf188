// Exponential backoff with jitter (see backoff.hpp).
#include "node_agent/link/backoff.hpp"

#include <algorithm>

namespace openbatch::agent::link {

Backoff::Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, std::uint64_t seed)
    : min_(std::max(min, std::chrono::milliseconds(1))),
      max_(std::max(max, min_)),
      current_(min_),
      random_(seed) {}

std::chrono::milliseconds Backoff::next() {
  const auto d = current_;
  current_ = std::min(current_ * 2, max_);
  std::uniform_int_distribution<std::int64_t> jitter(d.count() / 2, d.count());
  return std::chrono::milliseconds(jitter(random_));
}

}  // namespace openbatch::agent::link
