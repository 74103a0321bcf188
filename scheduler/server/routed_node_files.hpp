// RoutedNodeFiles: the scheduler's NodeFiles. A node whose root directory is on this machine
// (the local provisioner's <nodes-dir>/<pool>/<node>) is read directly, even while its
// agent is down; any other node (static pools, agents on other machines) is read through its
// agent's link.
//
// Thread-safety: as its two parts (stateless here).
#pragma once

#include "scheduler/api/node_files.hpp"
#include "scheduler/engine/engine.hpp"
#include "scheduler/server/agent_node_files.hpp"

#include <filesystem>

namespace openbatch::server {

class RoutedNodeFiles final : public api::NodeFiles {
 public:
  RoutedNodeFiles(std::filesystem::path nodes_root, engine::Engine& engine)
      : local_(std::move(nodes_root)), agents_(engine) {}

  // Not coroutines: each hands back the chosen implementation's own awaitable.
  Async<files::FileInfo> stat(std::string pool, std::string node, std::string path) override {
    return pick(pool, node).stat(pool, node, std::move(path));
  }
  Async<std::vector<files::FileInfo>> list(std::string pool, std::string node, std::string dir,
                                           bool recursive, std::size_t limit) override {
    return pick(pool, node).list(pool, node, std::move(dir), recursive, limit);
  }
  Async<std::string> read(std::string pool, std::string node, std::string path,
                          std::optional<files::ByteRange> range) override {
    return pick(pool, node).read(pool, node, std::move(path), range);
  }
  Async<void> remove(std::string pool, std::string node, std::string path,
                     bool recursive) override {
    return pick(pool, node).remove(pool, node, std::move(path), recursive);
  }

 private:
  api::NodeFiles& pick(const std::string& pool, const std::string& node) {
    std::error_code ec;
    if (std::filesystem::is_directory(local_.nodes_root() / pool / node, ec)) return local_;
    return agents_;
  }

  api::LocalNodeFiles local_;
  AgentNodeFiles agents_;
};

}  // namespace openbatch::server
