// Which byte ranges `file get` requests: the whole file or its last N bytes (--tail), cut
// into chunks so that no reply outgrows the client's and the service's response limits.
// Sent as ocp-range "bytes=first-last". Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace openbatch::cli {

inline constexpr std::uint64_t kFileChunkBytes = 64ull << 20;

struct ByteSpan {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  bool operator==(const ByteSpan&) const = default;
};

// Spans covering [max(0, size - tail), size) in order, each at most `chunk` bytes; none for
// an empty file or --tail 0.
std::vector<ByteSpan> plan_ranges(std::uint64_t size, std::optional<std::uint64_t> tail,
                                  std::uint64_t chunk = kFileChunkBytes);

// "bytes=first-last"
std::string range_header(const ByteSpan& span);

}  // namespace openbatch::cli
