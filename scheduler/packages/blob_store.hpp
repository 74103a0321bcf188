// The package blob store on disk: <data-dir>/packages/<sha256>, one file per content.
//
// An upload is staged first (receive_package: streamed to packages/.upload-<uuid> while
// hashed, fsynced), then published by the store write that commits its record
// (publish_blob: rename to <sha256> + directory fsync), so a committed record never names a
// partial blob. Removal is two-phase for the same reason: retire_blob renames the blob aside
// inside the write op, and the route deletes it (or puts it back) once the commit's outcome is
// known. Both renames run on the store's writer thread, which orders them against each other.
#pragma once

#include "common/error.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace openbatch::packages {

// An upload's bytes, read piece by piece so that a package is never held in memory whole.
// The HTTP layer's request body (api::BodySource) is one.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // The announced size (Content-Length), when there is one.
  virtual std::optional<std::uint64_t> length() const = 0;
  // Reads the next piece into `buf`; 0 once the stream is complete.
  virtual boost::asio::awaitable<Result<std::size_t>> read_some(std::span<char> buf) = 0;
};

struct StagedBlob {
  std::filesystem::path temp;  // packages/.upload-<uuid>; removed by publish or discard
  std::string sha256;          // lowercase hex
  std::uint64_t size = 0;
};

// True when `head` (the first bytes of a file) starts like a zip archive: a local file header
// (PK\3\4) or, for an empty archive, the end-of-central-directory record (PK\5\6).
bool looks_like_zip(std::string_view head);

// Reads the whole body into a staged file. Errors: 400 InvalidRequestBody when the content is
// not a zip (detected from the first bytes: the rest is not read), 413 RequestBodyTooLarge past
// `max_bytes`, 400 when the body ends before its Content-Length, 500 on a disk failure. On
// error nothing is left on disk.
boost::asio::awaitable<Result<StagedBlob>> receive_package(ByteStream& body,
                                                           const std::filesystem::path& data_dir,
                                                           std::uint64_t max_bytes);

// Renames the staged file to its blob path (an existing blob of the same digest is replaced by
// identical bytes) and fsyncs the directory.
Status publish_blob(const std::filesystem::path& data_dir, StagedBlob& staged);

// Removes a staged file that will not be published (idempotent).
void discard_staged(StagedBlob& staged);

// Moves the blob of `digest` aside; returns where it went (nullopt when there was none).
std::optional<std::filesystem::path> retire_blob(const std::filesystem::path& data_dir,
                                                 const std::string& digest);
// After the commit: deletes the retired file (committed) or moves it back (the commit failed).
void settle_retired(const std::filesystem::path& data_dir, const std::string& digest,
                    const std::optional<std::filesystem::path>& retired, bool committed);

}  // namespace openbatch::packages
