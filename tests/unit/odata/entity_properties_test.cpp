// A $filter naming a property the listed entity does not have is refused (Azure: 400), with
// the property in the Reason; known properties, nested paths under them and any case pass.
#include "scheduler/odata/entity_properties.hpp"

#include "scheduler/odata/filter.hpp"

#include <gtest/gtest.h>

namespace openbatch::odata {
namespace {

std::string reason_of(const Error& e) {
  for (const auto& detail : e.values) {
    if (detail.key == "Reason") return detail.value;
  }
  return {};
}

TEST(FilterProperties, UnknownPropertiesAreRefusedNamingThem) {
  auto bad = parse_filter_for("nosuchprop eq 'x'", "pools");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().status, 400);
  EXPECT_EQ(bad.error().code, "InvalidQueryParameterValue");
  EXPECT_NE(reason_of(bad.error()).find("'nosuchprop'"), std::string::npos)
      << reason_of(bad.error());

  auto nested = parse_filter_for("state eq 'active' or (not startswith(bogus/inner,'x'))", "jobs");
  ASSERT_FALSE(nested);
  EXPECT_NE(reason_of(nested.error()).find("'bogus/inner'"), std::string::npos);

  // executionInfo is a task's property, not a pool's.
  EXPECT_FALSE(parse_filter_for("executionInfo/exitCode ne 0", "pools"));
  EXPECT_FALSE(parse_filter_for("pool eq 'p'", "nodecounts"));
}

TEST(FilterProperties, KnownPropertiesPassInAnyCase) {
  EXPECT_TRUE(parse_filter_for("executionInfo/exitCode ne 0 and State eq 'completed'", "tasks"));
  EXPECT_TRUE(parse_filter_for("startTaskInfo/result eq 'failure'", "nodes"));
  EXPECT_TRUE(parse_filter_for("startswith(name,'wd')", "files"));
  EXPECT_TRUE(parse_filter_for("poolId eq 'p'", "nodecounts"));
  EXPECT_TRUE(parse_filter_for("osType eq 'linux'", "supportedimages"));
  EXPECT_TRUE(parse_filter_for("", "pools"));
  // A list without a property table checks only the syntax.
  EXPECT_TRUE(parse_filter_for("anything eq 1", "elsewhere"));
  EXPECT_TRUE(entity_properties("elsewhere").empty());
}

}  // namespace
}  // namespace openbatch::odata
