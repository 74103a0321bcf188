// NodeTree: the files of one compute node's root directory (startup/, shared/, workitems/...)
// as the task- and node-file APIs see them: stat, list, read (with a byte range) and remove.
// The scheduler uses it for nodes whose root is on its own machine; the agent uses it to answer
// the scheduler's fileRequest frames for everything else (agent-protocol.md section 3.9).
//
// Every path is relative to the root, '/'-separated, and resolved beneath a descriptor of the
// root (common/files/beneath.hpp): a '..' that leaves the root and any symlink read as "not
// found", never as a file elsewhere, even while a task swaps its directories for links. Errors are
// the API's own (404 FileNotFound, 409 DirectoryNotEmpty, 416 InvalidRange, 409
// NodeFilesUnavailable when the root itself is missing), so callers pass them through.
//
// Thread-safety: const methods on plain paths; blocking file I/O.
#pragma once

#include "common/clock.hpp"
#include "common/error.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace openbatch::files {

struct FileInfo {
  std::string name;  // path relative to the directory listed / the node root
  bool is_directory = false;
  uint64_t size = 0;
  TimePoint creation_time{};
  TimePoint last_modified{};
  unsigned mode = 0;  // permission bits
  bool operator==(const FileInfo&) const = default;
};

struct ByteRange {
  uint64_t first = 0;
  std::optional<uint64_t> last;  // inclusive; nullopt = to the end
  bool operator==(const ByteRange&) const = default;
};

// Part of a file, with the facts of the whole file (its size tells a reader whether more follows).
struct FileChunk {
  FileInfo info;
  uint64_t first = 0;  // offset of data in the file
  std::string data;
};

// Largest body a file GET returns at once; bigger files are read with ocp-range.
inline constexpr uint64_t kMaxFileReadBytes = 256ull << 20;

Error file_not_found();
Error invalid_range(std::string message = "The byte range specified is invalid or unavailable.");

// The bytes [first, end) that `range` selects in a file of `size` bytes, or 416 InvalidRange
// when it starts past the end (an empty file may still be read from 0) or spans more than
// kMaxFileReadBytes.
Result<std::pair<uint64_t, uint64_t>> select_bytes(uint64_t size,
                                                   const std::optional<ByteRange>& range);

class NodeTree {
 public:
  explicit NodeTree(std::filesystem::path root) : root_(std::move(root)) {}

  Result<FileInfo> stat(const std::string& path) const;
  // Entries under `dir` (names relative to it), sorted by name; at most `limit` of them.
  Result<std::vector<FileInfo>> list(const std::string& dir, bool recursive,
                                     std::size_t limit) const;
  // The bytes `range` selects (select_bytes), at once.
  Result<std::string> read(const std::string& path, const std::optional<ByteRange>& range) const;
  // At most `max_bytes` of what `range` selects, from its start; the chunk's info.size says
  // how far the file goes. The 256 MiB cap does not apply: a chunk is bounded by max_bytes.
  Result<FileChunk> read_chunk(const std::string& path, const std::optional<ByteRange>& range,
                               uint64_t max_bytes) const;
  // Deletes a file or an empty directory; a non-empty one only when `recursive`.
  Status remove(const std::string& path, bool recursive) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

}  // namespace openbatch::files
