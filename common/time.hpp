// ISO 8601 date-times and durations as the Azure Batch wire writes and accepts them.
//
// Date-times: Azure writes UTC with 7 fractional digits ("2016-11-21T18:26:39.7108787Z") and
// accepts 0..7 digits and any +hh:mm offset. Durations: .NET TimeSpan semantics (100 ns ticks,
// days as the largest unit, TimeSpan.MaxValue = "unlimited"). Pure functions, thread-safe.
#pragma once

#include "common/clock.hpp"
#include "common/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <ratio>
#include <string>
#include <string_view>

namespace openbatch {

// A .NET TimeSpan: a count of 100-nanosecond ticks.
using Duration = std::chrono::duration<int64_t, std::ratio<1, 10'000'000>>;

// .NET TimeSpan.MaxValue, which Azure uses for "unlimited" (maxWallClockTime, retentionTime).
inline constexpr Duration kMaxDuration{INT64_MAX};

// "2016-11-21T18:26:39.7108787Z": UTC, always 7 fractional digits (truncated to 100 ns).
std::string format_iso8601(TimePoint time);

// Parses YYYY-MM-DDThh:mm[:ss[.f{1,7}]] followed by 'Z', '+hh:mm', '-hh:mm' or nothing (taken
// as UTC); 'T' and 'Z' may be lowercase. Times outside what TimePoint can hold (about
// 1678..2262) are rejected rather than wrapped. On failure the Error is InvalidPropertyValue
// naming `property` (pass the wire property the text came from) with the text and a Reason.
Result<TimePoint> parse_iso8601(std::string_view text, std::string_view property = {});

// The same grammar as parse_iso8601 without building an Error: for hot paths (OData filter
// evaluation) that only need to know whether a string is a time.
std::optional<TimePoint> try_parse_iso8601(std::string_view text);

// Parses an ISO 8601 duration as Azure accepts it: P[nW][nD][T[nH][nM][n[.f{1,7}]S]], e.g.
// "PT15M", "P7D", "P2W", "P1DT2H30M", "PT0.5S", "P10675199DT2H48M5.4775807S" (= kMaxDuration).
// Rejected: years and months (their length is ambiguous), negative values, values beyond
// kMaxDuration, and designators without a number ("P", "PT", "P1DT"). Errors as parse_iso8601.
Result<Duration> parse_duration(std::string_view text, std::string_view property = {});

// Azure's canonical form (that of .NET XmlConvert): "PT15M", "P7D", "PT1H30M", "PT0.5S",
// "PT0S" for zero, "P10675199DT2H48M5.4775807S" for kMaxDuration; a leading '-' if negative.
std::string format_duration(Duration duration);

}  // namespace openbatch
