// Tests of the small value checks: ids, enum spellings, lengths and ISO 8601 durations.
#include "scheduler/domain/values.hpp"

#include "scheduler/domain/duration.hpp"

#include <gtest/gtest.h>

namespace openbatch::domain {
namespace {

TEST(Ids, AcceptLettersDigitsHyphensAndUnderscoresUpTo64) {
  EXPECT_TRUE(is_valid_id("a"));
  EXPECT_TRUE(is_valid_id("Pool_1-gpu"));
  EXPECT_TRUE(is_valid_id(std::string(64, 'x')));
  EXPECT_FALSE(is_valid_id(""));
  EXPECT_FALSE(is_valid_id(std::string(65, 'x')));
  for (auto bad : {"a b", "a.b", "a/b", "a:b", "ä", "a\n", "../x"}) {
    EXPECT_FALSE(is_valid_id(bad)) << bad;
  }
}

TEST(Enums, MatchIgnoringCaseAndReturnTheCanonicalSpelling) {
  EXPECT_EQ(canonical_enum("NonAdmin", {"nonadmin", "admin"}), "nonadmin");
  EXPECT_EQ(canonical_enum("PACK", {"spread", "pack"}), "pack");
  EXPECT_EQ(canonical_enum("dockercompatible", {"dockerCompatible", "criCompatible"}),
            "dockerCompatible");
  EXPECT_FALSE(canonical_enum("root", {"nonadmin", "admin"}).has_value());
  EXPECT_FALSE(canonical_enum("", {"nonadmin", "admin"}).has_value());
  EXPECT_FALSE(canonical_enum("adminx", {"nonadmin", "admin"}).has_value());
}

TEST(Utf8, CountsCodePointsNotBytes) {
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("\xC3\xA4\xE2\x82\xAC\xF0\x9F\x98\x80"), 3u);  // ä € 😀
}

TEST(Durations, ParseDaysHoursMinutesSecondsAndWeeks) {
  EXPECT_EQ(parse_duration("PT15M"), 15 * kTicksPerMinute);
  EXPECT_EQ(parse_duration("PT1H30M"), 90 * kTicksPerMinute);
  EXPECT_EQ(parse_duration("P7D"), 7 * kTicksPerDay);
  EXPECT_EQ(parse_duration("P1DT2H"), kTicksPerDay + 2 * kTicksPerHour);
  EXPECT_EQ(parse_duration("PT0.5S"), kTicksPerSecond / 2);
  EXPECT_EQ(parse_duration("PT36H"), 36 * kTicksPerHour);
  EXPECT_EQ(parse_duration("P2W"), 14 * kTicksPerDay);
  EXPECT_EQ(parse_duration("PT0S"), 0);
  EXPECT_EQ(parse_duration(kUnlimitedDuration), kMaxDurationTicks);
  EXPECT_EQ(parse_duration("PT1.1234567S"), kTicksPerSecond + 1234567);
  EXPECT_EQ(parse_duration("PT1.123456789S"), std::nullopt);  // .NET ticks hold 7 digits
}

TEST(Durations, RejectGarbage) {
  for (auto bad : {"",
                   "P",
                   "PT",
                   "P1DT",
                   "15M",
                   "PT15",
                   "PT1M1H",
                   "P1Y",
                   "P1M",
                   "PT1.5M",
                   "-PT5M",
                   "PT-5M",
                   "PT.5S",
                   "pt15m",
                   "PT15M ",
                   " PT15M",
                   "P1.5D",
                   "PT1HH",
                   "P99999999999999999999D",
                   "P10675200D"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(Durations, FormatTheWayDotNetWritesATimeSpan) {
  EXPECT_EQ(format_duration(15 * kTicksPerMinute), "PT15M");
  EXPECT_EQ(format_duration(60 * kTicksPerMinute), "PT1H");
  EXPECT_EQ(format_duration(7 * kTicksPerDay), "P7D");
  EXPECT_EQ(format_duration(0), "PT0S");
  EXPECT_EQ(format_duration(kTicksPerSecond + kTicksPerSecond / 2), "PT1.5S");
  EXPECT_EQ(format_duration(kTicksPerDay + kTicksPerSecond), "P1DT1S");
  EXPECT_EQ(format_duration(kMaxDurationTicks), kUnlimitedDuration);
  for (auto text : {"PT15M", "P1DT2H3M4.5S", "PT0.0000001S", "P7D"}) {
    EXPECT_EQ(format_duration(*parse_duration(text)), text);
  }
}

}  // namespace
}  // namespace openbatch::domain
