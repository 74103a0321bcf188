// Byte ranges for file downloads (see file_ranges.hpp).
#include "cli/file_ranges.hpp"

#include <algorithm>

namespace openbatch::cli {

std::vector<ByteSpan> plan_ranges(std::uint64_t size, std::optional<std::uint64_t> tail,
                                  std::uint64_t chunk) {
  std::vector<ByteSpan> spans;
  if (chunk == 0) return spans;
  std::uint64_t start = tail && *tail < size ? size - *tail : 0;
  if (tail && *tail == 0) start = size;
  while (start < size) {
    const std::uint64_t end = std::min(size, start + chunk);  // exclusive
    spans.push_back({start, end - 1});
    start = end;
  }
  return spans;
}

std::string range_header(const ByteSpan& span) {
  return "bytes=" + std::to_string(span.first) + "-" + std::to_string(span.last);
}

}  // namespace openbatch::cli
