// NodeFiles: reading the files of a compute node (its root directory: startup/, shared/,
// workitems/...). The scheduler answers the task- and node-file APIs through it. The local
// implementation serves nodes whose root directory is on this machine (the `local`
// provisioner puts node <n> of pool <p> at <data-dir>/nodes/<p>/<n>); agents on other machines
// are reached through another implementation of the same interface (server/routed_node_files).
//
// The methods are coroutines because a remote node answers over its agent's link; they run on
// the caller's executor and take their arguments by value (they outlive the caller's frame).
#pragma once

#include "common/error.hpp"
#include "common/files/node_tree.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace openbatch::api {

using files::ByteRange;
using files::FileInfo;
using files::kMaxFileReadBytes;

class NodeFiles {
 public:
  template <class T>
  using Async = boost::asio::awaitable<Result<T>>;

  virtual ~NodeFiles() = default;
  // `path` is relative to the node root, '/'-separated, already checked for '..'.
  virtual Async<FileInfo> stat(std::string pool, std::string node, std::string path) = 0;
  virtual Async<std::vector<FileInfo>> list(std::string pool, std::string node, std::string dir,
                                            bool recursive, std::size_t limit) = 0;
  // The bytes `range` selects, at most kMaxFileReadBytes (416 InvalidRange beyond).
  virtual Async<std::string> read(std::string pool, std::string node, std::string path,
                                  std::optional<ByteRange> range) = 0;
  virtual Async<void> remove(std::string pool, std::string node, std::string path,
                             bool recursive) = 0;
};

// Nodes whose root is <nodes_root>/<pool>/<node> on this machine. Blocking file I/O on the
// caller's thread, as a local disk read is short.
class LocalNodeFiles final : public NodeFiles {
 public:
  explicit LocalNodeFiles(std::filesystem::path nodes_root) : nodes_root_(std::move(nodes_root)) {}
  Async<FileInfo> stat(std::string pool, std::string node, std::string path) override;
  Async<std::vector<FileInfo>> list(std::string pool, std::string node, std::string dir,
                                    bool recursive, std::size_t limit) override;
  Async<std::string> read(std::string pool, std::string node, std::string path,
                          std::optional<ByteRange> range) override;
  Async<void> remove(std::string pool, std::string node, std::string path, bool recursive) override;

  // The node's tree (its root need not exist).
  files::NodeTree tree(const std::string& pool, const std::string& node) const {
    return files::NodeTree(nodes_root_ / pool / node);
  }
  const std::filesystem::path& nodes_root() const { return nodes_root_; }

 private:
  std::filesystem::path nodes_root_;
};

}  // namespace openbatch::api
