// Application packages through the real router and store (ApiHarness: bodies in memory, the
// same route code the streamed server path runs): pending versions, activation, references,
// deletion rules, the blob files, and resolve_package_refs.
#include "scheduler/packages/applications.hpp"
#include "scheduler/packages/blob_store.hpp"
#include "scheduler/packages/resolution.hpp"
#include "tests/unit/api/api_harness.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

namespace openbatch::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string zip_bytes(const std::string& tag) {
  std::string zip("PK\x03\x04", 4);
  zip += tag;  // not a valid archive, but the server only checks the magic
  return zip;
}

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class ApplicationsApi : public ::testing::Test {
 protected:
  Reply upload(const std::string& app, const std::string& version, const std::string& body,
               bool activate = false) {
    std::string target = "/applications/" + app + "/versions/" + version;
    if (activate) target += "?activate=true";
    return h.call("PUT", with_version(target), body, {{"Content-Type", "application/zip"}});
  }
  Reply create_pool_with(const json& refs, const std::string& id = "p1") {
    auto pool = gpu_pool(id);
    pool["applicationPackageReferences"] = refs;
    return h.call("POST", with_version("/pools"), pool);
  }
  ApiHarness h;
};

TEST_F(ApplicationsApi, UploadIntoAnUnknownApplicationIs404) {
  auto r = upload("nope", "1.0", zip_bytes("a"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "ApplicationNotFound");
  EXPECT_FALSE(fs::exists(h.dir() / "packages") && !fs::is_empty(h.dir() / "packages"));
}

TEST_F(ApplicationsApi, PendingVersionIsInvisibleToTheDataPlaneUntilActivated) {
  ASSERT_EQ(
      h.call("PUT", with_version("/applications/drv"), json{{"displayName", "Driver"}}).status,
      201);
  const std::string zip = zip_bytes("pending");
  auto up = upload("drv", "535", zip);
  ASSERT_EQ(up.status, 201) << up.body;
  EXPECT_EQ(up.json()["state"], "pending");
  EXPECT_EQ(up.json()["size"], zip.size());
  const std::string sha = up.json()["sha256"];
  EXPECT_TRUE(packages::valid_digest(sha));
  EXPECT_EQ(file_text(packages::blob_path(h.dir(), sha)), zip);
  EXPECT_FALSE(up.json().contains("lastActivationTime"));

  // The data plane lists active versions only; an application without one is not there.
  EXPECT_EQ(h.call("GET", with_version("/applications")).json()["value"], json::array());
  EXPECT_EQ(h.call("GET", with_version("/applications/drv")).code(), "ApplicationNotFound");

  // A pending version cannot be referenced; the refusal names the reference.
  auto refused = create_pool_with(json::array({{{"applicationId", "drv"}, {"version", "535"}}}));
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.code(), "InvalidApplicationPackageReferences");
  EXPECT_NE(refused.body.find(R"({"key":"drv","value":"535"})"), std::string::npos) << refused.body;

  auto activated = h.call("POST", with_version("/applications/drv/versions/535/activate"),
                          json{{"format", "zip"}});
  ASSERT_EQ(activated.status, 200) << activated.body;
  EXPECT_EQ(activated.json()["state"], "active");
  EXPECT_TRUE(activated.json().contains("lastActivationTime"));

  auto app = h.call("GET", with_version("/applications/DRV")).json();
  EXPECT_EQ(app["versions"], json::array({"535"}));
  EXPECT_EQ(app["displayName"], "Driver");
  EXPECT_EQ(create_pool_with(json::array({{{"applicationId", "drv"}, {"version", "535"}}})).status,
            201);
}

TEST_F(ApplicationsApi, ActivateNeedsTheZipFormatAndAnExistingVersion) {
  ASSERT_EQ(h.call("PUT", with_version("/applications/a")).status, 201);
  ASSERT_EQ(upload("a", "1", zip_bytes("x")).status, 201);
  EXPECT_EQ(
      h.call("POST", with_version("/applications/a/versions/1/activate"), json::object()).code(),
      "MissingRequiredProperty");
  EXPECT_EQ(
      h.call("POST", with_version("/applications/a/versions/1/activate"), json{{"format", "tar"}})
          .code(),
      "InvalidPropertyValue");
  EXPECT_EQ(
      h.call("POST", with_version("/applications/a/versions/2/activate"), json{{"format", "zip"}})
          .code(),
      "ApplicationPackageNotFound");
}

TEST_F(ApplicationsApi, NonZipIsRefusedAndLeavesNothing) {
  ASSERT_EQ(h.call("PUT", with_version("/applications/a")).status, 201);
  auto r = upload("a", "1", "hello, not a zip");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "InvalidRequestBody");
  EXPECT_NE(r.body.find(".zip"), std::string::npos) << r.body;
  EXPECT_EQ(h.call("GET", with_version("/applications/a/versions")).json()["value"], json::array());
  for (const auto& e : fs::directory_iterator(h.dir() / "packages")) ADD_FAILURE() << e.path();
}

TEST_F(ApplicationsApi, ReuploadFollowsAllowUpdates) {
  ASSERT_EQ(h.call("PUT", with_version("/applications/a")).status, 201);
  auto first = upload("a", "1", zip_bytes("one"), true);
  ASSERT_EQ(first.status, 201);
  auto second = upload("a", "1", zip_bytes("two"), true);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_NE(first.json()["sha256"], second.json()["sha256"]);
  // The replaced content is no longer referenced: its blob went.
  EXPECT_FALSE(fs::exists(packages::blob_path(h.dir(), first.json()["sha256"].get<std::string>())));
  EXPECT_TRUE(fs::exists(packages::blob_path(h.dir(), second.json()["sha256"].get<std::string>())));

  ASSERT_EQ(h.call("PUT", with_version("/applications/a"), json{{"allowUpdates", false}}).status,
            200);
  auto refused = upload("a", "1", zip_bytes("three"), true);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.code(), "ApplicationPackageExists");
  EXPECT_EQ(upload("a", "2", zip_bytes("three"), true).status, 201);
}

TEST_F(ApplicationsApi, DeleteIsRefusedWhileAPoolUsesTheVersion) {
  ASSERT_EQ(h.call("PUT", with_version("/applications/a")).status, 201);
  const std::string zip = zip_bytes("shared");
  auto v1 = upload("a", "1", zip, true);
  ASSERT_EQ(v1.status, 201);
  ASSERT_EQ(upload("a", "2", zip, true).status, 201);  // same content: one blob
  ASSERT_EQ(h.call("PUT", with_version("/applications/a"), json{{"defaultVersion", "2"}}).status,
            200);
  ASSERT_EQ(create_pool_with(json::array({{{"applicationId", "A"}, {"version", "1"}}}), "explicit")
                .status,
            201);
  ASSERT_EQ(create_pool_with(json::array({{{"applicationId", "a"}}}), "bydefault").status, 201);

  for (const char* v : {"1", "2"}) {
    auto before = h.call("GET", with_version("/applications/a/versions")).body;
    auto r = h.call("DELETE", with_version(std::string("/applications/a/versions/") + v));
    EXPECT_EQ(r.status, 409);
    EXPECT_EQ(r.code(), "ApplicationPackageInUse");
    EXPECT_NE(r.body.find(v == std::string("1") ? "explicit" : "bydefault"), std::string::npos)
        << r.body;
    EXPECT_EQ(h.call("GET", with_version("/applications/a/versions")).body, before);
  }
  EXPECT_EQ(h.call("DELETE", with_version("/applications/a")).code(), "ApplicationPackagesExist");

  // Once the pools are gone (their records erased) the versions may go.
  ASSERT_TRUE(h.store().reader()->get(store::Table::Pools, "", "explicit"));
  std::promise<void> erased;
  h.store().submit(
      [](store::Writer& w) {
        return w.erase(store::Table::Pools, "", "explicit") &&
               w.erase(store::Table::Pools, "", "bydefault");
      },
      [&](const Status&) { erased.set_value(); });
  erased.get_future().wait();
  const std::string sha = v1.json()["sha256"];
  EXPECT_EQ(h.call("DELETE", with_version("/applications/a/versions/1")).status, 204);
  EXPECT_TRUE(fs::exists(packages::blob_path(h.dir(), sha))) << "version 2 still has the content";
  EXPECT_EQ(h.call("GET", with_version("/applications/a/versions/1")).code(),
            "ApplicationPackageNotFound");
  EXPECT_EQ(h.call("DELETE", with_version("/applications/a/versions/2")).status, 204);
  EXPECT_FALSE(fs::exists(packages::blob_path(h.dir(), sha)));
  auto app = h.call("GET", with_version("/applications/a/versions")).json();
  EXPECT_EQ(app["value"], json::array());
  EXPECT_FALSE(app.contains("defaultVersion"));
  EXPECT_EQ(h.call("DELETE", with_version("/applications/a")).status, 204);
  EXPECT_EQ(h.call("GET", with_version("/applications/a/versions")).code(), "ApplicationNotFound");
}

TEST_F(ApplicationsApi, ResolvePackageRefs) {
  ASSERT_EQ(h.call("PUT", with_version("/applications/Drv")).status, 201);
  auto v1 = upload("Drv", "535.104", zip_bytes("a"), true);
  ASSERT_EQ(upload("Drv", "550", zip_bytes("b")).status, 201);  // pending
  ASSERT_EQ(
      h.call("PUT", with_version("/applications/drv"), json{{"defaultVersion", "535.104"}}).status,
      200);
  auto reader = h.store().reader();

  auto ok = packages::resolve_package_refs(
      *reader, json::array({{{"applicationId", "drv"}},
                            {{"applicationId", "DRV"}, {"version", "535.104"}}}));
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(ok->size(), 2u);
  const protocol::PackageRef expected{"Drv", "535.104", v1.json()["sha256"], v1.json()["size"],
                                      true};
  EXPECT_EQ((*ok)[0], expected);
  EXPECT_FALSE((*ok)[1].default_version);
  EXPECT_EQ((*ok)[1].sha256, expected.sha256);

  auto bad = packages::resolve_package_refs(
      *reader,
      json::array({{{"applicationId", "drv"}, {"version", "550"}}, {{"applicationId", "none"}}}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().status, 409);
  EXPECT_EQ(bad.error().code, "InvalidApplicationPackageReferences");
  EXPECT_EQ(bad.error().values,
            (std::vector<ErrorDetail>{{"drv", "550"}, {"none", "(default version)"}}));
  EXPECT_TRUE(packages::resolve_package_refs(*reader, json())->empty());
}

TEST(PackageRules, Digests) {
  EXPECT_TRUE(packages::valid_digest(std::string(64, 'a')));
  EXPECT_FALSE(packages::valid_digest(std::string(64, 'A')));
  EXPECT_FALSE(packages::valid_digest(std::string(63, 'a')));
  EXPECT_FALSE(packages::valid_digest("../" + std::string(61, 'a')));
}

TEST(PackageRules, ZipMagic) {
  EXPECT_TRUE(packages::looks_like_zip(std::string("PK\x03\x04rest", 8)));
  EXPECT_TRUE(packages::looks_like_zip(std::string("PK\x05\x06", 4)));
  EXPECT_FALSE(packages::looks_like_zip("PK"));
  EXPECT_FALSE(packages::looks_like_zip("\x1f\x8b\x08\x00"));
}

TEST(PackageRules, Names) {
  EXPECT_TRUE(packages::valid_package_name("535.104-rc_1"));
  EXPECT_FALSE(packages::valid_package_name(".."));
  EXPECT_FALSE(packages::valid_package_name("a/b"));
  EXPECT_FALSE(packages::valid_package_name(std::string(65, 'a')));
}

TEST(PackageRules, ActiveVersionsKeepUploadOrder) {
  const json app = {
      {"id", "a"},
      {"versions", {"2", "1", "3"}},
      {"openbatch",
       {{"packages",
         {{"2", {{"state", "active"}}}, {"1", {{"state", "pending"}}}, {"3", json::object()}}}}}};
  EXPECT_EQ(packages::active_versions(app),
            json::array({"2", "3"}));  // no state: written before states
  EXPECT_EQ(packages::find_version(app, "3"), "3");
  EXPECT_FALSE(packages::find_version(app, "4"));
}

}  // namespace
}  // namespace openbatch::testing
