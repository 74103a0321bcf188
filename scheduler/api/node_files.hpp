// NodeFiles: reading the files of a compute node (its root directory: startup/, shared/,
// workitems/...). The scheduler answers the task- and node-file APIs through it. The local
// implementation serves nodes whose root directory is on this machine (the `local`
// provisioner puts node <n> of pool <p> at <data-dir>/nodes/<p>/<n>); agents on other machines
// are reached through another implementation of the same interface.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"

namespace openbatch::api {

struct FileInfo {
  std::string name;          // path relative to the directory listed / the node root
  bool is_directory = false;
  uint64_t size = 0;
  TimePoint creation_time{};
  TimePoint last_modified{};
  unsigned mode = 0;         // permission bits
};

struct ByteRange {
  uint64_t first = 0;
  std::optional<uint64_t> last;  // inclusive; nullopt = to the end
};

class NodeFiles {
 public:
  virtual ~NodeFiles() = default;
  // `path` is relative to the node root, '/'-separated, already checked for '..'.
  virtual Result<FileInfo> stat(const std::string& pool, const std::string& node, const std::string& path) = 0;
  virtual Result<std::vector<FileInfo>> list(const std::string& pool, const std::string& node,
                                             const std::string& dir, bool recursive, std::size_t limit) = 0;
  virtual Result<std::string> read(const std::string& pool, const std::string& node, const std::string& path,
                                   const std::optional<ByteRange>& range) = 0;
  virtual Status remove(const std::string& pool, const std::string& node, const std::string& path,
                        bool recursive) = 0;
};

class LocalNodeFiles final : public NodeFiles {
 public:
  explicit LocalNodeFiles(std::filesystem::path nodes_root) : nodes_root_(std::move(nodes_root)) {}
  Result<FileInfo> stat(const std::string& pool, const std::string& node, const std::string& path) override;
  Result<std::vector<FileInfo>> list(const std::string& pool, const std::string& node, const std::string& dir,
                                     bool recursive, std::size_t limit) override;
  Result<std::string> read(const std::string& pool, const std::string& node, const std::string& path,
                           const std::optional<ByteRange>& range) override;
  Status remove(const std::string& pool, const std::string& node, const std::string& path, bool recursive) override;

 private:
  // Resolves `path` under the node's root, refusing anything that escapes it (symlinks too).
  Result<std::filesystem::path> resolve(const std::string& pool, const std::string& node,
                                        const std::string& path) const;
  std::filesystem::path nodes_root_;
};

// Largest body a file GET returns at once; bigger files are read with ocp-range.
inline constexpr uint64_t kMaxFileReadBytes = 256ull << 20;

}  // namespace openbatch::api
