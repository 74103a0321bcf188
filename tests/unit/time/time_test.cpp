// Tests for common/time: ISO 8601 date-times and durations on the Azure Batch wire.
#include "common/time.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace openbatch {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

TimePoint at(std::chrono::year_month_day date, std::chrono::nanoseconds time_of_day = {}) {
  return TimePoint(sys_days(date)) + std::chrono::duration_cast<TimePoint::duration>(time_of_day);
}

TEST(FormatIso8601, WritesUtcWithSevenFractionalDigits) {
  const TimePoint t = at(2016y / 11 / 21, 18h + 26min + 39s + Duration(7108787));
  EXPECT_EQ(format_iso8601(t), "2016-11-21T18:26:39.7108787Z");
  EXPECT_EQ(format_iso8601(at(2017y / 2 / 17)), "2017-02-17T00:00:00.0000000Z");
  EXPECT_EQ(format_iso8601(TimePoint{}), "1970-01-01T00:00:00.0000000Z");
}

TEST(FormatIso8601, TruncatesBelowOneHundredNanoseconds) {
  const TimePoint t = at(2020y / 1 / 1, 1s + 199ns);
  EXPECT_EQ(format_iso8601(t), "2020-01-01T00:00:01.0000001Z");
}

TEST(FormatIso8601, HandlesTimesBeforeTheEpoch) {
  const TimePoint t = at(1969y / 12 / 31, 23h + 59min + 59s + 500ms);
  EXPECT_EQ(format_iso8601(t), "1969-12-31T23:59:59.5000000Z");
}

TEST(ParseIso8601, AcceptsAzureAndCommonClientForms) {
  const TimePoint base = at(2016y / 11 / 21, 18h + 26min + 39s);
  struct Case {
    std::string text;
    TimePoint expected;
  };
  const std::vector<Case> cases = {
      {"2016-11-21T18:26:39.7108787Z", base + Duration(7108787)},
      {"2016-11-21T18:26:39Z", base},
      {"2016-11-21T18:26:39.5Z", base + 500ms},
      {"2016-11-21T18:26:39.123Z", base + 123ms},        // JavaScript toISOString
      {"2016-11-21T18:26:39.123456Z", base + 123456us},  // Python isoformat
      {"2016-11-21t18:26:39z", base},
      {"2016-11-21T18:26:39", base},  // no zone: UTC
      {"2016-11-21T18:26Z", base - 39s},
      {"2016-11-21T20:26:39+02:00", base},
      {"2016-11-21T13:56:39-04:30", base},
      {"2016-11-21T18:26:39+00:00", base},
      {"2016-11-22T08:26:39+14:00", base},
      {"2000-02-29T00:00:00Z", at(2000y / 2 / 29)},
  };
  for (const auto& c : cases) {
    auto parsed = parse_iso8601(c.text, "creationTime");
    ASSERT_TRUE(parsed) << c.text << ": " << parsed.error().detail("Reason");
    EXPECT_EQ(*parsed, c.expected) << c.text;
    EXPECT_EQ(try_parse_iso8601(c.text), c.expected) << c.text;
  }
}

TEST(ParseIso8601, RoundTripsWhatItFormats) {
  const TimePoint t = at(2023y / 6 / 30, 23h + 59min + 59s + Duration(9999999));
  EXPECT_EQ(*parse_iso8601(format_iso8601(t)), t);
}

TEST(ParseIso8601, RejectsGarbageWithAnInvalidPropertyValueError) {
  const std::vector<std::string> bad = {
      "",
      "yesterday",
      "2016-11-21",                     // no time
      "2016-11-21 18:26:39Z",           // space instead of T
      "2016-11-21T18:26:39.Z",          // '.' without digits
      "2016-11-21T18:26:39.12345678Z",  // more than 7 digits
      "2016-11-21T18:26:39ZZ",
      "2016-11-21T18:26:39+0200",   // offset without ':'
      "2016-11-21T18:26:39+15:00",  // beyond .NET's +-14:00
      "2016-11-21T18:26:39+02:60",
      "2016-13-01T00:00:00Z",
      "2017-02-29T00:00:00Z",  // not a leap year
      "2016-11-31T00:00:00Z",
      "2016-11-21T24:00:00Z",
      "2016-11-21T18:60:00Z",
      "2016-11-21T18:26:60Z",  // no leap seconds
      "16-11-21T18:26:39Z",
      "2016-1-21T18:26:39Z",
      "+2016-11-21T18:26:39Z",
      "2016-11-21T18:26:39Z ",
      "9999-12-31T23:59:59.9999999Z",  // beyond what TimePoint holds
      "0001-01-01T00:00:00Z",
  };
  for (const auto& text : bad) {
    auto parsed = parse_iso8601(text, "creationTime");
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().status, 400);
    EXPECT_EQ(parsed.error().code, "InvalidPropertyValue");
    EXPECT_EQ(parsed.error().detail("PropertyName"), "creationTime");
    EXPECT_EQ(parsed.error().detail("PropertyValue"), text);
    EXPECT_FALSE(parsed.error().detail("Reason").empty()) << text;
    EXPECT_FALSE(try_parse_iso8601(text)) << text;
  }
}

TEST(ParseDuration, AcceptsAzureForms) {
  struct Case {
    std::string text;
    Duration expected;
  };
  const std::vector<Case> cases = {
      {"PT15M", 15min},
      {"P7D", 7 * 24h},
      {"P2W", 14 * 24h},
      {"P1W2D", 9 * 24h},
      {"PT1H30M", 90min},
      {"PT90M", 90min},
      {"PT36H", 36h},
      {"P1DT2H3M4S", 26h + 3min + 4s},
      {"PT0.5S", 500ms},
      {"PT1.0000001S", 1s + Duration(1)},
      {"PT0.500000S", 500ms},  // Python isodate writes microseconds
      {"PT0S", Duration::zero()},
      {"P0D", Duration::zero()},
      {"PT5M0S", 5min},
      {"P10675199DT2H48M5.4775807S", kMaxDuration},
  };
  for (const auto& c : cases) {
    auto parsed = parse_duration(c.text, "maxWallClockTime");
    ASSERT_TRUE(parsed) << c.text << ": " << parsed.error().detail("Reason");
    EXPECT_EQ(*parsed, c.expected) << c.text;
  }
}

TEST(ParseDuration, RejectsAmbiguousNegativeOverflowingAndMalformedValues) {
  const std::vector<std::string> bad = {
      "",
      "P",
      "PT",
      "P1DT",
      "P1Y",  // years: ambiguous length
      "P1M",  // months: ambiguous length
      "P1Y2M3D",
      "-PT15M",
      "-P1D",
      "PT-5M",
      "15M",
      "pt15m",
      "PT15",
      "PTM",
      "PT1.5M",         // fraction only on seconds
      "PT0.12345678S",  // more than 7 digits
      "PT1.S",
      "P1D2W",  // out of order
      "PT1M1H",
      "PT1M1M",
      "P1DT1D",
      "PT1HT1M",
      "P1H",  // hours before T
      "PT1W",
      "P10675199DT2H48M5.4775808S",  // kMaxDuration + 1 tick
      "P10675200D",
      "P99999999999999999999D",
      "PT15M ",
      " PT15M",
  };
  for (const auto& text : bad) {
    auto parsed = parse_duration(text, "maxWallClockTime");
    ASSERT_FALSE(parsed) << text << " parsed as " << parsed->count();
    EXPECT_EQ(parsed.error().code, "InvalidPropertyValue");
    EXPECT_EQ(parsed.error().detail("PropertyName"), "maxWallClockTime");
    EXPECT_EQ(parsed.error().detail("PropertyValue"), text);
    EXPECT_FALSE(parsed.error().detail("Reason").empty()) << text;
  }
}

TEST(FormatDuration, WritesAzureCanonicalForm) {
  struct Case {
    Duration value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {15min, "PT15M"},
      {7 * 24h, "P7D"},
      {90min, "PT1H30M"},
      {500ms, "PT0.5S"},
      {Duration::zero(), "PT0S"},
      {kMaxDuration, "P10675199DT2H48M5.4775807S"},
      {24h + 1s, "P1DT1S"},
      {Duration(1), "PT0.0000001S"},
      {1h + 5s + 250ms, "PT1H5.25S"},
      {-90min, "-PT1H30M"},
      {Duration::min(), "-P10675199DT2H48M5.4775808S"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_duration(c.value), c.expected) << c.value.count();
  }
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (Duration d : {Duration(15min), Duration(7 * 24h), Duration(123456789), kMaxDuration,
                     Duration(26h + 3min + 4s + 1ms), Duration::zero()}) {
    auto parsed = parse_duration(format_duration(d));
    ASSERT_TRUE(parsed) << format_duration(d);
    EXPECT_EQ(*parsed, d);
  }
}

}  // namespace
}  // namespace openbatch
