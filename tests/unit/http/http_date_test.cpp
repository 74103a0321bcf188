// RFC 1123 date parsing and formatting (common/http_date).
#include "common/http_date.hpp"

#include <gtest/gtest.h>

namespace openbatch {
namespace {

using namespace std::chrono_literals;
using std::chrono::duration_cast, std::chrono::seconds, std::chrono::sys_days,
    std::chrono::sys_seconds, std::chrono::January, std::chrono::March;

TEST(HttpDate, ParsesTheOcpDateOfTheWorkedExamples) {
  const auto t = parse_http_date("Fri, 17 Feb 2017 00:00:00 GMT");
  ASSERT_TRUE(t);
  EXPECT_EQ(duration_cast<seconds>(t->time_since_epoch()).count(), 1487289600);
}

TEST(HttpDate, FormatsAndParsesBackToTheSameSecond) {
  const sys_seconds t = sys_days{2024y / March / 9} + 7h + 5min + 3s;
  EXPECT_EQ(format_http_date(t + 900ms), "Sat, 09 Mar 2024 07:05:03 GMT");
  EXPECT_EQ(parse_http_date(format_http_date(t)), t);
  EXPECT_EQ(format_http_date(sys_days{1970y / January / 1}), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(HttpDate, ToleratesAOneDigitDay) {
  EXPECT_EQ(parse_http_date("Thu, 1 Feb 2024 00:00:00 GMT"),
            parse_http_date("Thu, 01 Feb 2024 00:00:00 GMT"));
}

TEST(HttpDate, RejectsOtherFormatsAndImpossibleDates) {
  for (const char* bad :
       {"", "Fri, 17 Feb 2017 00:00:00", "Fri, 17 Feb 2017 00:00:00 UTC",
        "Friday, 17-Feb-17 00:00:00 GMT", "Fri Feb 17 00:00:00 2017", "2017-02-17T00:00:00Z",
        "Fri, 30 Feb 2017 00:00:00 GMT", "Fri, 17 Feb 2017 24:00:00 GMT",
        "Fri, 17 Feb 2017 00:60:00 GMT", "Fri, 17 Foo 2017 00:00:00 GMT",
        "Xyz, 17 Feb 2017 00:00:00 GMT", "Fri, 17 Feb 2017 00:00:00 GMT ",
        "fri, 17 feb 2017 00:00:00 GMT", "Fri, 17 Feb 17 00:00:00 GMT"}) {
    EXPECT_FALSE(parse_http_date(bad)) << bad;
  }
}

// Found by fuzz/fuzz_shared_key: the year of an ocp-date is the client's, and a year the
// nanosecond clock cannot hold overflowed a signed multiplication (undefined behaviour).
TEST(HttpDate, RejectsYearsTheClockCannotHold) {
  for (const char* bad : {"Fri, 17 Feb 1027 00:00:00 GMT", "Mon, 01 Jan 0000 00:00:00 GMT",
                          "Fri, 01 Jan 1677 00:00:00 GMT", "Sat, 12 Apr 2262 00:00:00 GMT",
                          "Fri, 31 Dec 9999 23:59:59 GMT"}) {
    EXPECT_FALSE(parse_http_date(bad)) << bad;
  }
  for (const char* good : {"Mon, 01 Jan 1700 00:00:00 GMT", "Sat, 01 Jan 2261 00:00:00 GMT"}) {
    EXPECT_TRUE(parse_http_date(good)) << good;
  }
}

}  // namespace
}  // namespace openbatch
