// Pool routes through the real router and store: wire shape, validation refusals that change
// nothing, conditional requests, and the lifecycle sweeper finishing delete and resize.
#include "tests/unit/api/api_harness.hpp"

#include <gtest/gtest.h>

namespace openbatch::testing {
namespace {

using nlohmann::json;

int pool_count(ApiHarness& h) {
  return static_cast<int>(h.call("GET", with_version("/pools")).json()["value"].size());
}

TEST(PoolApi, AddReturns201WithEntityHeadersAndGetShowsCanonicalPool) {
  ApiHarness h;
  auto add = h.call("POST", with_version("/pools"), gpu_pool("GpuPool"));
  ASSERT_EQ(add.status, 201) << add.body;
  EXPECT_TRUE(add.body.empty());
  EXPECT_EQ(add.header("DataServiceId"), "http://batch.test/pools/GpuPool");
  EXPECT_FALSE(add.header("ETag").empty());
  EXPECT_FALSE(add.header("Last-Modified").empty());
  EXPECT_FALSE(add.header("request-id").empty());

  auto get = h.call("GET", with_version("/pools/gpupool"));  // ids are case-insensitive
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(get.header("Content-Type"), "application/json;odata=minimalmetadata");
  auto pool = get.json();
  EXPECT_EQ(pool["id"], "GpuPool");
  EXPECT_EQ(pool["vmSize"], "standard_nc6");
  EXPECT_EQ(pool["taskSlotsPerNode"], 1);
  EXPECT_EQ(pool["state"], "active");
  EXPECT_EQ(pool["allocationState"], "resizing");
  EXPECT_EQ(pool["eTag"], add.header("ETag"));
  EXPECT_EQ(pool["startTask"]["userIdentity"]["autoUser"]["elevationLevel"], "admin");
  EXPECT_EQ(pool["startTask"]["userIdentity"]["autoUser"]["scope"], "pool");
  EXPECT_FALSE(pool.contains("previousState"));

  EXPECT_EQ(h.call("HEAD", with_version("/pools/GPUPOOL")).status, 200);
  auto missing = h.call("HEAD", with_version("/pools/nope"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(missing.body.empty());
}

TEST(PoolApi, RefusalsChangeNothing) {
  ApiHarness h;
  auto bad_size = gpu_pool("p1");
  bad_size["vmSize"] = "Standard_Nope42";
  auto r = h.call("POST", with_version("/pools"), bad_size);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "InvalidPropertyValue");
  EXPECT_NE(r.body.find("vmSize"), std::string::npos);

  auto no_size = gpu_pool("p1");
  no_size.erase("vmSize");
  r = h.call("POST", with_version("/pools"), no_size);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "MissingRequiredProperty");

  r = h.call("POST", with_version("/pools"), std::string("{\"id\": \"p1\", "));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "InvalidRequestBody");

  std::string deep(200, '[');
  r = h.call("POST", with_version("/pools"), "{\"id\":" + deep + std::string(200, ']') + "}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "InvalidRequestBody");

  auto windows = gpu_pool("p1");
  windows["virtualMachineConfiguration"] = {{"imageReference",
                                             {{"publisher", "microsoftwindowsserver"},
                                              {"offer", "windowsserver"},
                                              {"sku", "2019-datacenter"}}},
                                            {"nodeAgentSKUId", "batch.node.windows amd64"}};
  r = h.call("POST", with_version("/pools"), windows);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Windows"), std::string::npos) << r.body;

  auto with_app = gpu_pool("p1");
  with_app["applicationPackageReferences"] =
      json::array({{{"applicationId", "gpudriver"}, {"version", "411.82"}}});
  r = h.call("POST", with_version("/pools"), with_app);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.code(), "InvalidApplicationPackageReferences");

  EXPECT_EQ(pool_count(h), 0);
  ASSERT_EQ(h.call("POST", with_version("/pools"), gpu_pool("p1")).status, 201);
  r = h.call("POST", with_version("/pools"), gpu_pool("P1"));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.code(), "PoolExists");
  EXPECT_EQ(pool_count(h), 1);
}

TEST(PoolApi, ApplicationPackageReferenceWorksOnceThePackageExists) {
  ApiHarness h;
  ASSERT_EQ(
      h.call("PUT", with_version("/applications/gpudriver"), json{{"displayName", "NVIDIA driver"}})
          .status,
      201);
  std::string zip("PK\x05\x06", 4);
  zip.append(18, '\0');  // an empty zip archive: end-of-central-directory record only
  ASSERT_EQ(
      h.call("PUT", with_version("/applications/gpudriver/versions/411.82?activate=true"), zip)
          .status,
      201);
  auto pool = gpu_pool("p1");
  pool["applicationPackageReferences"] =
      json::array({{{"applicationId", "GPUDriver"}, {"version", "411.82"}}});
  auto r = h.call("POST", with_version("/pools"), pool);
  ASSERT_EQ(r.status, 201) << r.body;
  auto apps = h.call("GET", with_version("/applications")).json();
  ASSERT_EQ(apps["value"].size(), 1u);
  EXPECT_EQ(apps["value"][0]["versions"], json::array({"411.82"}));
  EXPECT_EQ(h.call("GET", with_version("/applications/none")).code(), "ApplicationNotFound");
}

TEST(PoolApi, ConditionalRequestsUseTheETag) {
  ApiHarness h;
  auto add = h.call("POST", with_version("/pools"), gpu_pool("p1"));
  const std::string etag = add.header("ETag");
  EXPECT_EQ(h.call("GET", with_version("/pools/p1"), "", {{"If-None-Match", etag}}).status, 304);
  auto stale = h.call("PATCH", with_version("/pools/p1"),
                      json{{"metadata", json::array({{{"name", "a"}, {"value", "b"}}})}}.dump(),
                      {{"If-Match", "0x8D0000000000000"}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(stale.code(), "ConditionNotMet");
  auto ok = h.call("PATCH", with_version("/pools/p1"),
                   json{{"metadata", json::array({{{"name", "a"}, {"value", "b"}}})}}.dump(),
                   {{"If-Match", etag}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(ok.header("ETag"), etag);
  EXPECT_EQ(h.call("GET", with_version("/pools/p1")).json()["metadata"][0]["value"], "b");
}

TEST(PoolApi, DeleteMarksDeletingThenTheSweepRemovesIt) {
  ApiHarness h;
  ASSERT_EQ(h.call("POST", with_version("/pools"), gpu_pool("p1")).status, 201);
  ASSERT_EQ(h.call("DELETE", with_version("/pools/p1")).status, 202);
  auto pool = h.call("GET", with_version("/pools/p1")).json();
  EXPECT_EQ(pool["state"], "deleting");
  EXPECT_EQ(pool["previousState"], "active");
  auto again = h.call("PATCH", with_version("/pools/p1"), json{{"metadata", json::array()}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.code(), "PoolBeingDeleted");
  h.sweep();
  EXPECT_EQ(h.call("GET", with_version("/pools/p1")).code(), "PoolNotFound");
}

TEST(PoolApi, ResizeWaitsForSteadyAndTimesOutLikeAzure) {
  ApiHarness h;
  ASSERT_EQ(h.call("POST", with_version("/pools"), gpu_pool("p1")).status, 201);
  auto busy = h.call("POST", with_version("/pools/p1/resize"), json{{"targetDedicatedNodes", 4}});
  EXPECT_EQ(busy.status, 409);
  EXPECT_EQ(busy.code(), "PoolBeingResized");
  h.clock().advance(std::chrono::minutes(16));  // past the default resizeTimeout of PT15M
  h.sweep();
  auto pool = h.call("GET", with_version("/pools/p1")).json();
  EXPECT_EQ(pool["allocationState"], "steady");
  EXPECT_EQ(pool["resizeErrors"][0]["code"], "AllocationTimedout");
  auto resize = h.call("POST", with_version("/pools/p1/resize"), json{{"targetDedicatedNodes", 0}});
  ASSERT_EQ(resize.status, 202) << resize.body;
  h.sweep();
  pool = h.call("GET", with_version("/pools/p1")).json();
  EXPECT_EQ(pool["allocationState"], "steady");
  EXPECT_FALSE(pool.contains("resizeErrors"));
  EXPECT_EQ(
      h.call("POST", with_version("/pools/p1/enableautoscale"), json{{"autoScaleFormula", "$x=1"}})
          .code(),
      "OperationNotValidOnPool");
}

TEST(PoolApi, ProtocolErrorsUseAzureCodes) {
  ApiHarness h;
  EXPECT_EQ(h.call("GET", "/pools").code(), "MissingRequiredQueryParameter");
  EXPECT_EQ(h.call("GET", "/pools?api-version=2019-08-01.10.0").code(),
            "UnsupportedRequestVersion");
  EXPECT_EQ(h.call("GET", "/pools?api-version=banana").code(), "UnsupportedRequestVersion");
  EXPECT_EQ(h.call("GET", "/pools?API-VERSION=2020-09-01.12.0").status,
            200);  // names are case-insensitive
  EXPECT_EQ(h.call("GET", with_version("/nothing")).code(), "InvalidUri");
  EXPECT_EQ(h.call("PUT", with_version("/pools")).status, 405);
  EXPECT_EQ(h.call("GET", with_version("/pools?maxresults=0")).code(),
            "OutOfRangeQueryParameterValue");
  EXPECT_EQ(h.call("GET", with_version("/pools?$filter=state%20eq")).code(),
            "InvalidQueryParameterValue");
  auto echo = h.call("GET", with_version("/pools"), "",
                     {{"client-request-id", "abc-123"}, {"return-client-request-id", "true"}});
  EXPECT_EQ(echo.header("client-request-id"), "abc-123");
  auto err = h.call("GET", with_version("/pools/none")).json();
  EXPECT_EQ(err["code"], "PoolNotFound");
  EXPECT_EQ(err["message"]["lang"], "en-US");
  EXPECT_NE(err["message"]["value"].get<std::string>().find("RequestId:"), std::string::npos);
}

TEST(PoolApi, SharedKeyIsRequiredAndAWrongKeyChangesNothing) {
  ApiHarness h(/*require_auth=*/true);
  auto unsigned_add = h.call("POST", with_version("/pools"), gpu_pool("p1"));
  EXPECT_EQ(unsigned_add.status, 403);
  EXPECT_EQ(unsigned_add.code(), "AuthenticationFailed");

  const std::string body = gpu_pool("p1").dump();
  const std::string target = with_version("/pools");
  auto signed_call = [&](const std::string& key) {
    const std::string date = "Fri, 17 Feb 2017 00:00:00 GMT";
    h.clock().advance(TimePoint(std::chrono::seconds(1487289600)) - h.clock().now());
    const std::string length = std::to_string(body.size());
    const std::string ct = "application/json; odata=minimalmetadata; charset=utf-8";
    std::vector<auth::HeaderField> fields{
        {"ocp-date", date}, {"Content-Type", ct}, {"Content-Length", length}};
    auth::RequestView view{"POST", target, fields};
    auto header = auth::sign(view, auth::SharedKeyCredential{"acct", key});
    return h.call("POST", target, body, {{"ocp-date", date}, {"Authorization", header}});
  };
  auto wrong = signed_call("0123456789abcdef0123456789abcdeX");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.code(), "AuthenticationFailed");
  auto right = signed_call("0123456789abcdef0123456789abcdef");
  EXPECT_EQ(right.status, 201) << right.body;
}

TEST(PoolApi, SupportedImagesAndNodeCountsFollowTheCatalogAndPools) {
  ApiHarness h;
  auto images =
      h.call("GET", with_version("/supportedimages?$filter=osType%20eq%20'linux'")).json();
  ASSERT_GT(images["value"].size(), 3u);
  for (const auto& i : images["value"]) EXPECT_EQ(i["osType"], "linux");
  auto page = h.call("GET", with_version("/supportedimages?maxresults=2")).json();
  EXPECT_EQ(page["value"].size(), 2u);
  EXPECT_TRUE(page.contains("odata.nextLink"));

  ASSERT_EQ(h.call("POST", with_version("/pools"), gpu_pool("p1")).status, 201);
  ASSERT_EQ(h.call("POST", with_version("/pools"), gpu_pool("p2")).status, 201);
  auto counts = h.call("GET", with_version("/nodecounts?$filter=poolId%20eq%20'p2'")).json();
  ASSERT_EQ(counts["value"].size(), 1u);
  EXPECT_EQ(counts["value"][0]["poolId"], "p2");
  EXPECT_EQ(counts["value"][0]["dedicated"]["waitingForStartTask"], 0);
  EXPECT_EQ(counts["value"][0]["dedicated"]["total"], 0);
  EXPECT_EQ(h.call("GET", with_version("/nodecounts")).json()["value"].size(), 2u);
  EXPECT_EQ(h.call("GET", with_version("/nodecounts?maxresults=11")).code(),
            "OutOfRangeQueryParameterValue");
}

}  // namespace
}  // namespace openbatch::testing
