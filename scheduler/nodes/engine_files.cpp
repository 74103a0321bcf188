// Engine: file requests to agents (agent-protocol.md 3.9). The scheduler reads the files of a
// node whose root is not on its machine by asking the node's agent over its link. Requests are
// not durable: each waits in file_requests_ until its answer, its link's close or its deadline,
// whichever comes first, and exactly one of them calls `done`.
#include "scheduler/nodes/agent_channel.hpp"
#include "scheduler/nodes/engine.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace openbatch::nodes {
namespace asio = boost::asio;

namespace {

protocol::FileResponse failure(std::string request_id, int status, std::string code,
                               std::string message) {
  protocol::FileResponse response;
  response.request_id = std::move(request_id);
  response.status = status;
  response.code = std::move(code);
  response.message = std::move(message);
  return response;
}

}  // namespace

void Engine::file_request(std::string node_id, protocol::FileRequest request, FileAnswer done) {
  asio::post(strand_, [this, node_id = std::move(node_id), request = std::move(request),
                       done = std::move(done)]() mutable {
    NodeInfo* node = find_node(node_id);
    if (stopped_ || !node || !node->linked || !node->link) {
      done(failure(request.request_id, 409, "NodeNotReachable",
                   "The node's agent is not connected; its files cannot be read now."));
      return;
    }
    const std::string id = "f" + std::to_string(next_file_request_++);
    request.request_id = id;
    auto deadline = std::make_unique<asio::steady_timer>(strand_, config_.file_request_timeout);
    deadline->async_wait([this, id](const boost::system::error_code& ec) {
      if (ec) return;  // answered or failed first
      auto it = file_requests_.find(id);
      if (it == file_requests_.end()) return;
      FileAnswer answer = std::move(it->second.done);
      spdlog::warn("node {}: file request {} timed out", it->second.node_id, id);
      file_requests_.erase(it);
      answer(failure(id, 504, "OperationTimedOut", "The node's agent did not answer in time."));
    });
    file_requests_.emplace(
        id, PendingFileRequest{node_id, node->link->id(), std::move(done), std::move(deadline)});
    send(*node, std::move(request));
  });
}

void Engine::handle_file_response(NodeInfo& node, protocol::FileResponse response) {
  auto it = file_requests_.find(response.request_id);
  // Unknown (timed out already) or asked of another node: nothing waits for it.
  if (it == file_requests_.end() || it->second.node_id != node.id) return;
  FileAnswer answer = std::move(it->second.done);
  file_requests_.erase(it);  // destroys the deadline, which cancels it
  answer(std::move(response));
}

void Engine::fail_file_requests(std::uint64_t link_id) {
  std::vector<std::pair<std::string, FileAnswer>> failed;
  for (auto it = file_requests_.begin(); it != file_requests_.end();) {
    if (it->second.link_id == link_id) {
      failed.emplace_back(it->first, std::move(it->second.done));
      it = file_requests_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [id, answer] : failed) {
    answer(
        failure(id, 409, "NodeNotReachable", "The node's agent disconnected before it answered."));
  }
}

}  // namespace openbatch::nodes
