// Sweeper: a periodic pass that finishes asynchronous state changes recorded by the API --
// pools settling or timing out a resize, deleted pools removed once empty, jobs finishing
// terminate/disable/enable, deleted jobs' tasks removed in bounded chunks (a job with a
// million tasks must not stall the writer). Reads on a reader connection; every change is a
// write op that re-checks the entity under the writer, so a concurrent API change wins.
#pragma once

#include "common/clock.hpp"
#include "scheduler/store/store.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>

namespace openbatch::lifecycle {

class Sweeper {
 public:
  using EtagSource = std::function<std::string()>;
  Sweeper(store::Store& store, const Clock& clock, EtagSource etags)
      : store_(store), clock_(clock), etags_(std::move(etags)) {}

  // One pass over pools and jobs in transitional states.
  boost::asio::awaitable<void> sweep_once();
  // Runs sweep_once every `period` until `stop()` returns true.
  boost::asio::awaitable<void> run(std::chrono::milliseconds period, std::function<bool()> stop);

 private:
  boost::asio::awaitable<void> sweep_pools();
  boost::asio::awaitable<void> sweep_jobs();

  store::Store& store_;
  const Clock& clock_;
  EtagSource etags_;
};

// Tasks of a deleted job removed per write op.
inline constexpr std::size_t kDeleteChunk = 5000;

}  // namespace openbatch::lifecycle
