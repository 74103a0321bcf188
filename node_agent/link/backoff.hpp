// Backoff: the reconnect (and join retry) delays of agent-protocol.md 2.4: from `min`,
// doubling up to `max`, each delay drawn uniformly from [d/2, d] so that many agents that
// lost the same scheduler do not come back in step. reset() after a connection that worked.
// Thread-safety: none.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace openbatch::agent::link {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max,
          std::uint64_t seed = std::random_device{}());

  // The delay to wait before the next try; each call doubles the next one.
  std::chrono::milliseconds next();
  void reset() { current_ = min_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_;
  std::mt19937_64 random_;
};

}  // namespace openbatch::agent::link
