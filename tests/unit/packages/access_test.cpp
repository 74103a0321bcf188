// Which packages a node may download, as the pure decision (access.hpp): its pool's
// references and those of the tasks dispatched to it, resolved as the node's setup and
// assignments resolve them; nothing of other pools or other nodes' tasks.
#include "scheduler/packages/access.hpp"

#include "common/text/ascii.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace openbatch::packages {
namespace {

using nlohmann::json;

const std::string kA1 = std::string(64, 'a');       // appa 1.0
const std::string kA2 = std::string(64, 'b');       // appa 2.0 (its default)
const std::string kB1 = std::string(64, 'c');       // appb 1.0
const std::string kPending = std::string(64, 'd');  // appa 3.0, not active

json app(const std::string& id, const std::string& default_version, json packages) {
  return {{"id", id},
          {"defaultVersion", default_version},
          {"openbatch", {{"packages", std::move(packages)}}}};
}

class PackageAccess : public ::testing::Test {
 protected:
  std::map<std::string, json> apps_ = {
      {"appa", app("AppA", "2.0",
                   {{"1.0", {{"sha256", kA1}, {"size", 1}, {"state", "active"}}},
                    {"2.0", {{"sha256", kA2}, {"size", 1}, {"state", "active"}}},
                    {"3.0", {{"sha256", kPending}, {"size", 1}, {"state", "pending"}}}})},
      {"appb", app("AppB", "1.0", {{"1.0", {{"sha256", kB1}, {"size", 1}, {"state", "active"}}}})}};
  ApplicationLookup lookup_ = [this](const std::string& id) -> std::optional<json> {
    std::string key = text::to_lower(id);
    auto it = apps_.find(key);
    if (it == apps_.end()) return std::nullopt;
    return it->second;
  };
};

json refs(json list) { return {{"applicationPackageReferences", std::move(list)}}; }

TEST_F(PackageAccess, ThePoolsReferencesResolveToTheirVersions) {
  const json pool = refs({{{"applicationId", "AppA"}, {"version", "1.0"}}});
  EXPECT_TRUE(node_may_download(pool, {}, kA1, lookup_));
  EXPECT_FALSE(node_may_download(pool, {}, kA2, lookup_))
      << "another version of the same application";
  EXPECT_FALSE(node_may_download(pool, {}, kB1, lookup_))
      << "an application the pool does not reference";
}

TEST_F(PackageAccess, AReferenceWithoutVersionMeansTheDefaultVersionNow) {
  const json pool = refs({{{"applicationId", "appa"}}});
  EXPECT_TRUE(node_may_download(pool, {}, kA2, lookup_));
  EXPECT_FALSE(node_may_download(pool, {}, kA1, lookup_));
  apps_["appa"]["defaultVersion"] = "1.0";
  EXPECT_TRUE(node_may_download(pool, {}, kA1, lookup_));
  EXPECT_FALSE(node_may_download(pool, {}, kA2, lookup_));
}

TEST_F(PackageAccess, TheTasksOnTheNodeAddTheirOwnPackages) {
  const json pool = json::object();  // references nothing
  const std::vector<json> tasks = {refs({{{"applicationId", "AppB"}, {"version", "1.0"}}}),
                                   json{{"id", "plain"}}};
  EXPECT_TRUE(node_may_download(pool, tasks, kB1, lookup_)) << "a task dispatched here names it";
  EXPECT_FALSE(node_may_download(pool, tasks, kA1, lookup_));
  EXPECT_FALSE(node_may_download(pool, {}, kB1, lookup_))
      << "once the task is off the node, it is gone";
}

TEST_F(PackageAccess, PendingVersionsUnknownApplicationsAndJunkGrantNothing) {
  const json pool = refs({{{"applicationId", "AppA"}, {"version", "3.0"}},
                          {{"applicationId", "nosuch"}, {"version", "1.0"}},
                          "junk",
                          {{"applicationId", 7}}});
  EXPECT_FALSE(node_may_download(pool, {}, kPending, lookup_));
  EXPECT_FALSE(node_may_download(pool, {}, std::string(64, '0'), lookup_))
      << "the null digest of unresolved refs";
  EXPECT_FALSE(node_may_download(pool, {}, "", lookup_));
  EXPECT_FALSE(node_may_download(json("not an object"), {json::array()}, kA1, lookup_));
}

}  // namespace
}  // namespace openbatch::packages
