// Tests for $select: parsing the property list and projecting entities onto it.
#include "scheduler/odata/select.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace openbatch::odata {
namespace {

using nlohmann::json;

const json kPool = json::parse(R"({
  "id": "pool1", "url": "https://acct.region.batch.azure.com/pools/pool1",
  "eTag": "0x8D4123BEF87D233", "state": "active", "vmSize": "standard_d2_v3",
  "targetDedicatedNodes": 2, "virtualMachineConfiguration": {"nodeAgentSKUId": "batch.node.ubuntu 20.04"}
})");

TEST(SelectParse, TrimsNamesAndFoldsCase) {
  auto select = parse_select(" id , State,vmSize ,ID");
  ASSERT_TRUE(select) << select.error().detail("Reason");
  EXPECT_EQ(select->properties, (std::vector<std::string>{"id", "state", "vmsize"}));
  EXPECT_TRUE(select->includes("Id"));
  EXPECT_TRUE(select->includes("VMSIZE"));
  EXPECT_FALSE(select->includes("url"));
  EXPECT_FALSE(select->includes("i"));
  EXPECT_FALSE(select->includes("idx"));
}

TEST(SelectParse, RejectsEmptyAndInvalidNames) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty property name"},
      {"  ", "empty property name"},
      {"id,", "empty property name"},
      {",id", "empty property name"},
      {"id,,state", "empty property name"},
      {"id, ,state", "empty property name"},
      {"executionInfo/exitCode", "nested properties"},
      {"id;state", "only letters, digits and '_'"},
      {"st ate", "only letters, digits and '_'"},
      {"*", "only letters, digits and '_'"},
      {std::string(kMaxSelectLength + 1, 'a'), "longer than"},
  };
  for (const auto& [text, reason] : cases) {
    auto select = parse_select(text);
    ASSERT_FALSE(select) << text;
    const Error& e = select.error();
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "InvalidQueryParameterValue");
    EXPECT_EQ(e.detail("QueryParameterName"), "$select");
    EXPECT_EQ(e.detail("QueryParameterValue"), text);
    EXPECT_NE(e.detail("Reason").find(reason), std::string::npos)
        << text << " -> " << e.detail("Reason");
  }
}

TEST(ApplySelect, KeepsOnlyTheNamedTopLevelProperties) {
  auto select = parse_select("ID,state,virtualmachineconfiguration,notThere");
  ASSERT_TRUE(select);
  const json expected = json::parse(R"({
    "id": "pool1", "state": "active",
    "virtualMachineConfiguration": {"nodeAgentSKUId": "batch.node.ubuntu 20.04"}
  })");
  EXPECT_EQ(apply_select(kPool, *select), expected);
}

TEST(ApplySelect, DropsUrlAndETagUnlessSelected) {
  EXPECT_EQ(apply_select(kPool, *parse_select("id")), json::parse(R"({"id":"pool1"})"));
  EXPECT_EQ(apply_select(kPool, *parse_select("eTag,url")),
            json::parse(R"({"eTag":"0x8D4123BEF87D233",
                            "url":"https://acct.region.batch.azure.com/pools/pool1"})"));
}

TEST(ApplySelect, SelectingNothingThatExistsGivesAnEmptyObject) {
  EXPECT_EQ(apply_select(kPool, *parse_select("missing")), json::object());
}

TEST(ApplySelect, EmptySelectOrNonObjectIsReturnedUnchanged) {
  EXPECT_EQ(apply_select(kPool, Select{}), kPool);
  const json array = json::array({1, 2});
  EXPECT_EQ(apply_select(array, *parse_select("id")), array);
}

}  // namespace
}  // namespace openbatch::odata
