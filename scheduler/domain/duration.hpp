// ISO 8601 durations as Azure Batch uses them (PT15M, P7D, P10675199DT2H48M5.4775807S),
// measured in .NET TimeSpan ticks (100 ns) because that is what bounds Azure's values: the
// largest duration is TimeSpan.MaxValue, which Azure reports for "unlimited".
//
// Kept private to domain/ on purpose: the validators need only this small, strict subset
// (no years or months, no negative values). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace openbatch::domain {

constexpr int64_t kTicksPerSecond = 10'000'000;
constexpr int64_t kTicksPerMinute = 60 * kTicksPerSecond;
constexpr int64_t kTicksPerHour = 60 * kTicksPerMinute;
constexpr int64_t kTicksPerDay = 24 * kTicksPerHour;
constexpr int64_t kMaxDurationTicks = INT64_MAX;  // TimeSpan.MaxValue
// How Azure spells an unlimited maxWallClockTime / retentionTime.
constexpr std::string_view kUnlimitedDuration = "P10675199DT2H48M5.4775807S";

// Parses P[nD][T[nH][nM][n[.f]S]] or PnW (at least one component; fractions on seconds
// only, digits past the 7th -- below one tick -- are dropped). nullopt for anything else,
// including overflow past TimeSpan.MaxValue.
std::optional<int64_t> parse_duration(std::string_view text);

// Canonical spelling, as .NET's XmlConvert writes a TimeSpan: "PT15M", "P7D", "PT0S",
// "PT1.5S". parse_duration(format_duration(t)) == t.
std::string format_duration(int64_t ticks);

}  // namespace openbatch::domain
