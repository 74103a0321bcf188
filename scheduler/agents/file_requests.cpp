#include "scheduler/agents/file_requests.hpp"

#include "scheduler/agents/agent_channel.hpp"

#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

namespace openbatch::agents {
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

void FileRequests::request(const std::string& node_id, protocol::FileRequest request,
                           FileAnswer done) {
  cluster::NodeInfo* node = ctx_.model.find_node(node_id);
  if (ctx_.stopped || !node || !node->linked || !node->link) {
    done(failure(request.request_id, 409, "NodeNotReachable",
                 "The node's agent is not connected; its files cannot be read now."));
    return;
  }
  const std::string id = "f" + std::to_string(next_id_++);
  request.request_id = id;
  auto deadline =
      std::make_unique<asio::steady_timer>(ctx_.strand, ctx_.config.file_request_timeout);
  deadline->async_wait([this, id](const boost::system::error_code& ec) {
    if (ec) return;  // answered or failed first
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    FileAnswer answer = std::move(it->second.done);
    spdlog::warn("node {}: file request {} timed out", it->second.node_id, id);
    pending_.erase(it);
    answer(failure(id, 504, "OperationTimedOut", "The node's agent did not answer in time."));
  });
  pending_.emplace(id, Pending{node_id, node->link->id(), std::move(done), std::move(deadline)});
  ctx_.wiring->send(*node, std::move(request));
}

void FileRequests::handle_response(cluster::NodeInfo& node, protocol::FileResponse response) {
  auto it = pending_.find(response.request_id);
  // Unknown (timed out already) or asked of another node: nothing waits for it.
  if (it == pending_.end() || it->second.node_id != node.id) return;
  FileAnswer answer = std::move(it->second.done);
  pending_.erase(it);  // destroys the deadline, which cancels it
  answer(std::move(response));
}

void FileRequests::fail_for_link(std::uint64_t link_id) {
  std::vector<std::pair<std::string, FileAnswer>> failed;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.link_id == link_id) {
      failed.emplace_back(it->first, std::move(it->second.done));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [id, answer] : failed) {
    answer(
        failure(id, 409, "NodeNotReachable", "The node's agent disconnected before it answered."));
  }
}

}  // namespace openbatch::agents
