// AgentNodeFiles: NodeFiles answered by the node's own agent over its link (fileRequest /
// fileResponse, agent-protocol.md 3.9), for nodes whose root is on another machine (static
// pools). Reads beyond one answer's 2 MiB are fetched in chunks, up to kMaxFileReadBytes.
// Listings are capped at the protocol's 4096 entries.
//
// Thread-safety: the coroutines resume on their caller's executor; the engine does the rest
// on its strand.
#pragma once

#include "common/protocol/agent_protocol.hpp"
#include "scheduler/api/node_files.hpp"
#include "scheduler/engine/engine.hpp"

namespace openbatch::server {

class AgentNodeFiles final : public api::NodeFiles {
 public:
  explicit AgentNodeFiles(engine::Engine& engine) : engine_(engine) {}

  Async<files::FileInfo> stat(std::string pool, std::string node, std::string path) override;
  Async<std::vector<files::FileInfo>> list(std::string pool, std::string node, std::string dir,
                                           bool recursive, std::size_t limit) override;
  Async<std::string> read(std::string pool, std::string node, std::string path,
                          std::optional<files::ByteRange> range) override;
  Async<void> remove(std::string pool, std::string node, std::string path, bool recursive) override;

 private:
  // One round trip: the agent's answer, or the engine's failure in the same shape.
  boost::asio::awaitable<protocol::FileResponse> ask(std::string node,
                                                     protocol::FileRequest request);

  engine::Engine& engine_;
};

}  // namespace openbatch::server
