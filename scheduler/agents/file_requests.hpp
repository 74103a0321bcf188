// FileRequests: file requests to agents (agent-protocol.md 3.9). The scheduler reads the files
// of a node whose root is not on its machine by asking the node's agent over its link.
// Requests are not durable: each waits here until its answer, its link's close or its
// deadline, whichever comes first, and exactly one of them calls `done`.
#pragma once

#include "scheduler/cluster/context.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace openbatch::agents {

class FileRequests {
 public:
  using FileAnswer = std::function<void(protocol::FileResponse)>;

  explicit FileRequests(cluster::Context& ctx) : ctx_(ctx) {}

  // On the strand: sends one fileRequest to the node's agent, minting its requestId; `done`
  // gets the agent's answer, or 409 NodeNotReachable / 504 OperationTimedOut (after
  // config.file_request_timeout).
  void request(const std::string& node_id, protocol::FileRequest request, FileAnswer done);
  void handle_response(cluster::NodeInfo& node, protocol::FileResponse response);
  // Fails the requests sent on the link with this id (it closed).
  void fail_for_link(std::uint64_t link_id);

 private:
  struct Pending {
    std::string node_id;
    std::uint64_t link_id = 0;
    FileAnswer done;
    std::unique_ptr<boost::asio::steady_timer> deadline;
  };

  cluster::Context& ctx_;
  std::unordered_map<std::string, Pending> pending_;  // by requestId
  std::uint64_t next_id_ = 1;
};

}  // namespace openbatch::agents
