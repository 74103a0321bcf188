// Durations for the validators, in .NET ticks: a thin layer over common/time.hpp, which owns
// the ISO 8601 parsing and Azure's canonical formatting.
#include "scheduler/domain/duration.hpp"

#include "common/time.hpp"

namespace openbatch::domain {

std::optional<int64_t> parse_duration(std::string_view text) {
  auto parsed = openbatch::parse_duration(text);
  if (!parsed) return std::nullopt;
  return parsed->count();
}

std::string format_duration(int64_t ticks) { return openbatch::format_duration(Duration(ticks)); }

}  // namespace openbatch::domain
