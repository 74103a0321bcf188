// Pure helpers of the API layer: JSON string escaping for hand-built replies, ETags.
#include "scheduler/api/entity.hpp"

#include "scheduler/api/services.hpp"
#include "tests/support/fake_clock.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace openbatch::api {
namespace {

TEST(AppendJsonString, ProducesWhatAJsonParserReadsBack) {
  for (std::string text :
       {std::string("plain"), std::string("q\"uo\\te"), std::string("tab\tnl\n\x01"),
        std::string("http://h/jobs/j/tasks/t-1_A"), std::string("ünïcode")}) {
    std::string out;
    append_json_string(out, text);
    EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), text) << out;
  }
}

TEST(EtagGenerator, IsStrictlyIncreasingWithinOneTick) {
  testing::FakeClock clock;
  EtagGenerator etags(clock);
  std::string a = etags.next(), b = etags.next();
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.starts_with("0x8D"));
  EXPECT_LT(std::stoull(a.substr(2), nullptr, 16), std::stoull(b.substr(2), nullptr, 16));
}

}  // namespace
}  // namespace openbatch::api
