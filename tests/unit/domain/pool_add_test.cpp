// Tests of validate_pool_add against batch-api.md section 2, with the shipped catalog.
#include "scheduler/domain/pool_validation.hpp"
#include "tests/unit/domain/test_support.hpp"

#include <gtest/gtest.h>

namespace openbatch::domain {
namespace {

using testing::error_of;
using testing::is_invalid;
using testing::is_missing;
using testing::json;

json valid_pool() {
  return json::parse(R"({
    "id": "pool1",
    "vmSize": "STANDARD_D2S_V3",
    "virtualMachineConfiguration": {
      "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy",
                         "sku": "22_04-lts"},
      "nodeAgentSKUId": "batch.node.ubuntu 22.04"
    },
    "targetDedicatedNodes": 2
  })");
}

// A pool on the 8 x A100 RDMA size with a matching generation 2 HPC image.
json rdma_pool() {
  json p = valid_pool();
  p["vmSize"] = "standard_nd96asr_v4";
  p["virtualMachineConfiguration"]["imageReference"] = {
      {"publisher", "microsoft-dsvm"}, {"offer", "ubuntu-hpc"}, {"sku", "2204"}};
  return p;
}

Result<PoolAddResult> add(json body) {
  return validate_pool_add(std::move(body), testing::shipped_catalog());
}

json accepted(json body) {
  auto r = add(std::move(body));
  EXPECT_TRUE(r.has_value()) << (r ? ""
                                   : r.error().code + " " + r.error().detail("PropertyName") + " " +
                                         r.error().detail("Reason"));
  return r ? r->value : json();
}

TEST(PoolAdd, FillsAzureDefaultsIntoAMinimalPool) {
  auto r = add(valid_pool());
  ASSERT_TRUE(r);
  const json& p = r->value;
  EXPECT_EQ(p["id"], "pool1");
  EXPECT_EQ(p["vmSize"], "standard_d2s_v3");
  EXPECT_EQ(p["virtualMachineConfiguration"]["imageReference"]["version"], "latest");
  EXPECT_EQ(p["virtualMachineConfiguration"]["nodeAgentSKUId"], "batch.node.ubuntu 22.04");
  EXPECT_EQ(p["resizeTimeout"], "PT15M");
  EXPECT_EQ(p["targetDedicatedNodes"], 2);
  EXPECT_EQ(p["targetLowPriorityNodes"], 0);
  EXPECT_EQ(p["enableAutoScale"], false);
  EXPECT_EQ(p["enableInterNodeCommunication"], false);
  EXPECT_EQ(p["taskSlotsPerNode"], 1);
  EXPECT_EQ(p["taskSchedulingPolicy"], json({{"nodeFillType", "spread"}}));
  EXPECT_FALSE(p.contains("startTask"));
  EXPECT_TRUE(r->advisories.empty());
}

TEST(PoolAdd, RefusesABodyThatIsNotAnObject) {
  auto e = error_of(add(json::array()));
  EXPECT_EQ(e.code, "InvalidRequestBody");
  EXPECT_EQ(e.status, 400);
}

TEST(PoolAdd, NamesEveryMissingRequiredProperty) {
  struct Case {
    const char* pointer;
    const char* property;
  };
  for (auto [pointer, property] : {
           Case{"/id", "id"},
           Case{"/vmSize", "vmSize"},
           Case{"/virtualMachineConfiguration", "virtualMachineConfiguration"},
           Case{"/virtualMachineConfiguration/imageReference",
                "virtualMachineConfiguration.imageReference"},
           Case{"/virtualMachineConfiguration/imageReference/publisher",
                "virtualMachineConfiguration.imageReference.publisher"},
           Case{"/virtualMachineConfiguration/imageReference/offer",
                "virtualMachineConfiguration.imageReference.offer"},
           Case{"/virtualMachineConfiguration/imageReference/sku",
                "virtualMachineConfiguration.imageReference.sku"},
           Case{"/virtualMachineConfiguration/nodeAgentSKUId",
                "virtualMachineConfiguration.nodeAgentSKUId"},
           Case{"/targetDedicatedNodes", "targetDedicatedNodes"},
       }) {
    json body = valid_pool();
    const json::json_pointer ptr(pointer);
    body[ptr.parent_pointer()].erase(ptr.back());
    EXPECT_TRUE(is_missing(error_of(add(body)), property)) << pointer;
  }
}

TEST(PoolAdd, TreatsNullAsAbsent) {
  json body = valid_pool();
  body["displayName"] = nullptr;
  EXPECT_FALSE(accepted(body).contains("displayName"));
  body["id"] = nullptr;
  EXPECT_TRUE(is_missing(error_of(add(body)), "id"));
}

TEST(PoolAdd, ChecksTheIdCharsetAndLength) {
  for (json bad : {json("my pool"), json("a.b"), json(std::string(65, 'a')), json(""), json(7)}) {
    json body = valid_pool();
    body["id"] = bad;
    EXPECT_TRUE(is_invalid(error_of(add(body)), "id")) << bad;
  }
  json body = valid_pool();
  body["id"] = "Gpu_Pool-01";
  EXPECT_EQ(accepted(body)["id"], "Gpu_Pool-01");  // case preserved
}

TEST(PoolAdd, LimitsDisplayNameTo1024Characters) {
  json body = valid_pool();
  std::string name;
  for (int i = 0; i < 1024; ++i) name += "\xC3\xA4";  // 1024 characters, 2048 bytes
  body["displayName"] = name;
  EXPECT_EQ(accepted(body)["displayName"], name);
  body["displayName"] = name + "x";
  EXPECT_TRUE(is_invalid(error_of(add(body)), "displayName"));
}

TEST(PoolAdd, RefusesCloudServiceConfiguration) {
  json body = valid_pool();
  body["cloudServiceConfiguration"] = {{"osFamily", "6"}};
  auto e = error_of(add(body));
  EXPECT_EQ(e.code, "UnsupportedProperty");
  EXPECT_EQ(e.detail("PropertyName"), "cloudServiceConfiguration");
  EXPECT_FALSE(e.detail("Reason").empty());
}

TEST(PoolAdd, ChecksVmSizeAgainstTheCatalog) {
  json body = valid_pool();
  body["vmSize"] = "Standard_Q9000";
  EXPECT_TRUE(is_invalid(error_of(add(body)), "vmSize"));
  body["vmSize"] = "standard_hb120RS_V3";
  EXPECT_EQ(accepted(body)["vmSize"], "standard_hb120rs_v3");
}

TEST(PoolAdd, ChecksTheImageAgainstTheCatalog) {
  json body = valid_pool();
  body["virtualMachineConfiguration"]["imageReference"]["sku"] = "14_04-lts";
  EXPECT_TRUE(is_invalid(error_of(add(body)), "virtualMachineConfiguration.imageReference"));

  body = valid_pool();
  body["virtualMachineConfiguration"]["nodeAgentSKUId"] = "batch.node.ubuntu 20.04";
  EXPECT_TRUE(is_invalid(error_of(add(body)), "virtualMachineConfiguration.nodeAgentSKUId"));

  body["virtualMachineConfiguration"]["nodeAgentSKUId"] = "batch.node.debian 9";
  auto e = error_of(add(body));
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.code, "NodeAgentSKUNotFound");
}

TEST(PoolAdd, RefusesWindowsImages) {
  json body = valid_pool();
  body["virtualMachineConfiguration"]["imageReference"] = {{"publisher", "MicrosoftWindowsServer"},
                                                           {"offer", "WindowsServer"},
                                                           {"sku", "2022-Datacenter"}};
  body["virtualMachineConfiguration"]["nodeAgentSKUId"] = "batch.node.windows amd64";
  auto e = error_of(add(body));
  EXPECT_TRUE(is_invalid(e, "virtualMachineConfiguration.imageReference"));
  EXPECT_NE(e.detail("Reason").find("Windows nodes are not supported by OpenBatch"),
            std::string::npos);
}

TEST(PoolAdd, RefusesAGeneration1ImageOnAGeneration2OnlySize) {
  json body = rdma_pool();
  body["virtualMachineConfiguration"]["imageReference"] = {
      {"publisher", "canonical"}, {"offer", "0001-com-ubuntu-server-jammy"}, {"sku", "22_04-lts"}};
  auto e = error_of(add(body));
  EXPECT_TRUE(is_invalid(e, "virtualMachineConfiguration.imageReference"));
  EXPECT_NE(e.detail("Reason").find("generation"), std::string::npos);
  body["virtualMachineConfiguration"]["imageReference"]["sku"] = "22_04-lts-gen2";
  EXPECT_TRUE(add(body));
}

TEST(PoolAdd, AcceptsACustomImageWithALinuxAgentSku) {
  json body = valid_pool();
  body["virtualMachineConfiguration"]["imageReference"] = {
      {"virtualMachineImageId",
       "/subscriptions/s/resourceGroups/g/providers/"
       "Microsoft.Compute/galleries/x/images/y/versions/1.0.0"}};
  json p = accepted(body);
  EXPECT_FALSE(p["virtualMachineConfiguration"]["imageReference"].contains("version"));

  body["virtualMachineConfiguration"]["imageReference"]["publisher"] = "canonical";
  EXPECT_TRUE(
      is_invalid(error_of(add(body)), "virtualMachineConfiguration.imageReference.publisher"));
  body["virtualMachineConfiguration"]["imageReference"].erase("publisher");
  body["virtualMachineConfiguration"]["nodeAgentSKUId"] = "batch.node.windows amd64";
  EXPECT_TRUE(is_invalid(error_of(add(body)), "virtualMachineConfiguration.nodeAgentSKUId"));
}

TEST(PoolAdd, NeedsAResizeTimeoutOfAtLeastFiveMinutes) {
  json body = valid_pool();
  body["resizeTimeout"] = "PT4M59S";
  EXPECT_TRUE(is_invalid(error_of(add(body)), "resizeTimeout"));
  body["resizeTimeout"] = "15 minutes";
  EXPECT_TRUE(is_invalid(error_of(add(body)), "resizeTimeout"));
  body["resizeTimeout"] = "PT5M";
  EXPECT_EQ(accepted(body)["resizeTimeout"], "PT5M");
  body["resizeTimeout"] = "PT60M";
  EXPECT_EQ(accepted(body)["resizeTimeout"], "PT1H");  // normalised as Azure returns it
}

TEST(PoolAdd, ChecksTargetNodeCounts) {
  for (json bad : {json(-1), json("2"), json(1.5), json(true), json(uint64_t{1} << 40)}) {
    json body = valid_pool();
    body["targetDedicatedNodes"] = bad;
    EXPECT_TRUE(is_invalid(error_of(add(body)), "targetDedicatedNodes")) << bad;
  }
  json body = valid_pool();
  body.erase("targetDedicatedNodes");
  body["targetLowPriorityNodes"] = 3;
  json p = accepted(body);
  EXPECT_EQ(p["targetDedicatedNodes"], 0);
  EXPECT_EQ(p["targetLowPriorityNodes"], 3);
}

TEST(PoolAdd, StoresAutoscaleSettingsWithoutTargets) {
  json body = valid_pool();
  body.erase("targetDedicatedNodes");
  body["enableAutoScale"] = true;
  body["autoScaleFormula"] = "$TargetDedicatedNodes = 2;";
  json p = accepted(body);
  EXPECT_EQ(p["enableAutoScale"], true);
  EXPECT_EQ(p["autoScaleFormula"], "$TargetDedicatedNodes = 2;");
  EXPECT_EQ(p["autoScaleEvaluationInterval"], "PT15M");
  EXPECT_FALSE(p.contains("targetDedicatedNodes"));

  body["autoScaleEvaluationInterval"] = "PT4M";
  EXPECT_TRUE(is_invalid(error_of(add(body)), "autoScaleEvaluationInterval"));
  body["autoScaleEvaluationInterval"] = "P8D";
  EXPECT_TRUE(is_invalid(error_of(add(body)), "autoScaleEvaluationInterval"));
  body.erase("autoScaleEvaluationInterval");

  json with_target = body;
  with_target["targetDedicatedNodes"] = 1;
  EXPECT_TRUE(is_invalid(error_of(add(with_target)), "targetDedicatedNodes"));
  body.erase("autoScaleFormula");
  EXPECT_TRUE(is_missing(error_of(add(body)), "autoScaleFormula"));

  json manual = valid_pool();
  manual["autoScaleFormula"] = "$TargetDedicatedNodes = 2;";
  EXPECT_TRUE(is_invalid(error_of(add(manual)), "autoScaleFormula"));
}

TEST(PoolAdd, BoundsTaskSlotsByTheVmSize) {
  json body = valid_pool();  // Standard_D2s_v3: 2 vCPUs, so at most 8 slots
  body["taskSlotsPerNode"] = 8;
  EXPECT_EQ(accepted(body)["taskSlotsPerNode"], 8);
  for (json bad : {json(9), json(0), json(-1), json("4")}) {
    body["taskSlotsPerNode"] = bad;
    EXPECT_TRUE(is_invalid(error_of(add(body)), "taskSlotsPerNode")) << bad;
  }
  body["vmSize"] = "Standard_HB120rs_v3";  // 4 x 120 is capped at 256
  body["taskSlotsPerNode"] = 256;
  EXPECT_TRUE(add(body));
  body["taskSlotsPerNode"] = 257;
  EXPECT_TRUE(is_invalid(error_of(add(body)), "taskSlotsPerNode"));
}

TEST(PoolAdd, ConvertsTheMaxTasksPerNodeAlias) {
  json body = valid_pool();
  body["maxTasksPerNode"] = 4;
  json p = accepted(body);
  EXPECT_EQ(p["taskSlotsPerNode"], 4);
  EXPECT_FALSE(p.contains("maxTasksPerNode"));
  body["maxTasksPerNode"] = 9;
  EXPECT_TRUE(is_invalid(error_of(add(body)), "maxTasksPerNode"));
  body["maxTasksPerNode"] = 4;
  body["taskSlotsPerNode"] = 4;
  EXPECT_EQ(accepted(body)["taskSlotsPerNode"], 4);
  body["taskSlotsPerNode"] = 2;
  EXPECT_TRUE(is_invalid(error_of(add(body)), "maxTasksPerNode"));
}

TEST(PoolAdd, ParsesEnumsIgnoringCaseAndWritesThemCanonically) {
  json body = valid_pool();
  body["taskSchedulingPolicy"] = {{"nodeFillType", "Pack"}};
  body["targetNodeCommunicationMode"] = "Simplified";
  body["virtualMachineConfiguration"]["containerConfiguration"] = {{"type", "DockerCompatible"}};
  json p = accepted(body);
  EXPECT_EQ(p["taskSchedulingPolicy"]["nodeFillType"], "pack");
  EXPECT_EQ(p["targetNodeCommunicationMode"], "simplified");
  EXPECT_EQ(p["virtualMachineConfiguration"]["containerConfiguration"]["type"], "dockerCompatible");

  body["taskSchedulingPolicy"] = {{"nodeFillType", "fill"}};
  EXPECT_TRUE(is_invalid(error_of(add(body)), "taskSchedulingPolicy.nodeFillType"));
  body["taskSchedulingPolicy"] = json::object();
  EXPECT_TRUE(is_missing(error_of(add(body)), "taskSchedulingPolicy.nodeFillType"));
  body = valid_pool();
  body["virtualMachineConfiguration"]["containerConfiguration"] = {{"type", "podman"}};
  EXPECT_TRUE(
      is_invalid(error_of(add(body)), "virtualMachineConfiguration.containerConfiguration.type"));
  body = valid_pool();
  body["targetNodeCommunicationMode"] = "fast";
  EXPECT_TRUE(is_invalid(error_of(add(body)), "targetNodeCommunicationMode"));
}

TEST(PoolAdd, DropsUnknownPropertiesAndKeepsAcceptAndStoreOnes) {
  json body = valid_pool();
  body["upgradePolicy"] = {{"mode", "manual"}};
  body["someFutureField"] = 1;
  body["networkConfiguration"] = {{"subnetId", "/subscriptions/x"}};
  body["certificateReferences"] = json::array();
  body["applicationLicenses"] = {"maya"};
  body["virtualMachineConfiguration"]["dataDisks"] = {{{"lun", 0}, {"diskSizeGB", 100}}};
  body["virtualMachineConfiguration"]["licenseType"] = "Windows_Server";
  body["virtualMachineConfiguration"]["surprise"] = true;
  json p = accepted(body);
  EXPECT_FALSE(p.contains("upgradePolicy"));
  EXPECT_FALSE(p.contains("someFutureField"));
  EXPECT_FALSE(p["virtualMachineConfiguration"].contains("surprise"));
  EXPECT_EQ(p["networkConfiguration"]["subnetId"], "/subscriptions/x");
  EXPECT_EQ(p["applicationLicenses"], json({"maya"}));
  EXPECT_EQ(p["virtualMachineConfiguration"]["dataDisks"][0]["lun"], 0);
  EXPECT_EQ(p["virtualMachineConfiguration"]["licenseType"], "Windows_Server");

  body["networkConfiguration"] = "subnet";
  EXPECT_TRUE(is_invalid(error_of(add(body)), "networkConfiguration"));
}

TEST(PoolAdd, AdvisesInterNodeCommunicationAndOneSlotOnRdmaSizes) {
  auto r = add(rdma_pool());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->advisories.size(), 1u);  // slots default to 1, so only inter-node advice
  EXPECT_NE(r->advisories[0].find("enableInterNodeCommunication"), std::string::npos);

  json body = rdma_pool();
  body["taskSlotsPerNode"] = 4;
  r = add(body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->advisories.size(), 2u);
  EXPECT_NE(r->advisories[1].find("taskSlotsPerNode"), std::string::npos);

  body["taskSlotsPerNode"] = 1;
  body["enableInterNodeCommunication"] = true;
  r = add(body);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->advisories.empty());
  EXPECT_EQ(r->value["enableInterNodeCommunication"], true);

  json cpu = valid_pool();
  cpu["taskSlotsPerNode"] = 4;
  EXPECT_TRUE(add(cpu)->advisories.empty());
}

TEST(PoolAdd, LimitsApplicationPackageReferencesToTen) {
  json body = valid_pool();
  body["applicationPackageReferences"] = json::array();
  for (int i = 0; i < 10; ++i) {
    body["applicationPackageReferences"].push_back(
        {{"applicationId", "app" + std::to_string(i)}, {"version", "1.0"}});
  }
  EXPECT_EQ(accepted(body)["applicationPackageReferences"].size(), 10u);
  body["applicationPackageReferences"].push_back({{"applicationId", "eleven"}});
  EXPECT_TRUE(is_invalid(error_of(add(body)), "applicationPackageReferences"));
  body["applicationPackageReferences"] = {{{"version", "1.0"}}};
  EXPECT_TRUE(is_missing(error_of(add(body)), "applicationPackageReferences[0].applicationId"));
}

TEST(PoolAdd, NeedsNameAndValueInMetadata) {
  json body = valid_pool();
  body["metadata"] = {{{"name", "owner"}, {"value", ""}}};
  EXPECT_EQ(accepted(body)["metadata"][0]["value"], "");
  body["metadata"] = {{{"name", "owner"}}};
  EXPECT_TRUE(is_missing(error_of(add(body)), "metadata[0].value"));
  body["metadata"] = {{{"value", "x"}}};
  EXPECT_TRUE(is_missing(error_of(add(body)), "metadata[0].name"));
  body["metadata"] = {"owner"};
  EXPECT_TRUE(is_invalid(error_of(add(body)), "metadata[0]"));
}

TEST(PoolAdd, ChecksUserAccounts) {
  json body = valid_pool();
  body["userAccounts"] = {{{"name", "mpiuser"},
                           {"password", "pw"},
                           {"elevationLevel", "Admin"},
                           {"linuxUserConfiguration", {{"uid", 1001}, {"gid", 1001}}}}};
  json p = accepted(body);
  EXPECT_EQ(p["userAccounts"][0]["elevationLevel"], "admin");

  body["userAccounts"][0].erase("elevationLevel");
  EXPECT_EQ(accepted(body)["userAccounts"][0]["elevationLevel"], "nonadmin");
  body["userAccounts"][0]["linuxUserConfiguration"].erase("gid");
  EXPECT_TRUE(is_invalid(error_of(add(body)), "userAccounts[0].linuxUserConfiguration.uid"));
  body["userAccounts"][0].erase("linuxUserConfiguration");
  body["userAccounts"].push_back({{"name", "MPIUSER"}, {"password", "x"}});
  EXPECT_TRUE(is_invalid(error_of(add(body)), "userAccounts[1].name"));
  for (auto bad : {"root", "_azbatch", "-x", "a b", "a/b"}) {
    body["userAccounts"] = {{{"name", bad}, {"password", "x"}}};
    EXPECT_TRUE(is_invalid(error_of(add(body)), "userAccounts[0].name")) << bad;
  }
  body["userAccounts"] = {{{"name", "u"}}};
  EXPECT_TRUE(is_missing(error_of(add(body)), "userAccounts[0].password"));
}

TEST(PoolAdd, ChecksMountConfiguration) {
  json body = valid_pool();
  body["mountConfiguration"] = {
      {{"nfsMountConfiguration", {{"source", "10.0.0.4:/data"}, {"relativeMountPath", "data"}}}}};
  EXPECT_EQ(accepted(body)["mountConfiguration"][0]["nfsMountConfiguration"]["source"],
            "10.0.0.4:/data");
  body["mountConfiguration"][0]["nfsMountConfiguration"]["relativeMountPath"] = "../etc";
  EXPECT_TRUE(is_invalid(error_of(add(body)),
                         "mountConfiguration[0].nfsMountConfiguration.relativeMountPath"));
  body["mountConfiguration"][0]["nfsMountConfiguration"].erase("relativeMountPath");
  EXPECT_TRUE(is_missing(error_of(add(body)),
                         "mountConfiguration[0].nfsMountConfiguration.relativeMountPath"));
  body["mountConfiguration"] = {
      {{"nfsMountConfiguration", json::object()}, {"cifsMountConfiguration", json::object()}}};
  EXPECT_TRUE(is_invalid(error_of(add(body)), "mountConfiguration[0]"));
}

TEST(PoolSpecification, IsAPoolWithoutAnId) {
  json spec = valid_pool();
  spec.erase("id");
  auto r = validate_pool_specification(spec, testing::shipped_catalog());
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->value.contains("id"));
  EXPECT_EQ(r->value["vmSize"], "standard_d2s_v3");
}

}  // namespace
}  // namespace openbatch::domain
