#include "scheduler/odata/entity_properties.hpp"

#include <array>

namespace openbatch::odata {
namespace {

constexpr std::string_view kPool[] = {"id",
                                      "displayName",
                                      "url",
                                      "eTag",
                                      "lastModified",
                                      "creationTime",
                                      "state",
                                      "stateTransitionTime",
                                      "allocationState",
                                      "allocationStateTransitionTime",
                                      "vmSize",
                                      "cloudServiceConfiguration",
                                      "virtualMachineConfiguration",
                                      "resizeTimeout",
                                      "resizeErrors",
                                      "currentDedicatedNodes",
                                      "currentLowPriorityNodes",
                                      "targetDedicatedNodes",
                                      "targetLowPriorityNodes",
                                      "enableAutoScale",
                                      "autoScaleFormula",
                                      "autoScaleEvaluationInterval",
                                      "autoScaleRun",
                                      "enableInterNodeCommunication",
                                      "networkConfiguration",
                                      "startTask",
                                      "certificateReferences",
                                      "applicationPackageReferences",
                                      "applicationLicenses",
                                      "taskSlotsPerNode",
                                      "taskSchedulingPolicy",
                                      "userAccounts",
                                      "metadata",
                                      "stats",
                                      "mountConfiguration",
                                      "identity",
                                      "targetNodeCommunicationMode",
                                      "currentNodeCommunicationMode",
                                      "resourceTags",
                                      "upgradePolicy",
                                      "maxTasksPerNode"};

constexpr std::string_view kJob[] = {"id",
                                     "displayName",
                                     "usesTaskDependencies",
                                     "url",
                                     "eTag",
                                     "lastModified",
                                     "creationTime",
                                     "state",
                                     "stateTransitionTime",
                                     "previousState",
                                     "previousStateTransitionTime",
                                     "priority",
                                     "allowTaskPreemption",
                                     "maxParallelTasks",
                                     "constraints",
                                     "jobManagerTask",
                                     "jobPreparationTask",
                                     "jobReleaseTask",
                                     "commonEnvironmentSettings",
                                     "poolInfo",
                                     "onAllTasksComplete",
                                     "onTaskFailure",
                                     "networkConfiguration",
                                     "metadata",
                                     "executionInfo",
                                     "stats"};

constexpr std::string_view kTask[] = {"id",
                                      "displayName",
                                      "url",
                                      "eTag",
                                      "lastModified",
                                      "creationTime",
                                      "exitConditions",
                                      "state",
                                      "stateTransitionTime",
                                      "previousState",
                                      "previousStateTransitionTime",
                                      "commandLine",
                                      "containerSettings",
                                      "resourceFiles",
                                      "outputFiles",
                                      "environmentSettings",
                                      "affinityInfo",
                                      "constraints",
                                      "requiredSlots",
                                      "userIdentity",
                                      "executionInfo",
                                      "nodeInfo",
                                      "multiInstanceSettings",
                                      "stats",
                                      "dependsOn",
                                      "applicationPackageReferences",
                                      "authenticationTokenSettings"};

constexpr std::string_view kNode[] = {"id",
                                      "url",
                                      "state",
                                      "schedulingState",
                                      "stateTransitionTime",
                                      "lastBootTime",
                                      "allocationTime",
                                      "ipAddress",
                                      "affinityId",
                                      "vmSize",
                                      "totalTasksRun",
                                      "runningTasksCount",
                                      "runningTaskSlotsCount",
                                      "totalTasksSucceeded",
                                      "recentTasks",
                                      "startTask",
                                      "startTaskInfo",
                                      "certificateReferences",
                                      "errors",
                                      "isDedicated",
                                      "endpointConfiguration",
                                      "nodeAgentInfo",
                                      "virtualMachineInfo"};

constexpr std::string_view kFile[] = {"name", "url", "isDirectory", "properties"};

constexpr std::string_view kImage[] = {
    "nodeAgentSKUId", "imageReference",        "osType",
    "capabilities",   "batchSupportEndOfLife", "verificationType"};

constexpr std::string_view kNodeCounts[] = {"poolId", "dedicated", "lowPriority"};

}  // namespace

std::span<const std::string_view> entity_properties(std::string_view entity) {
  if (entity == "pools") return kPool;
  if (entity == "jobs") return kJob;
  if (entity == "tasks") return kTask;
  if (entity == "nodes") return kNode;
  if (entity == "files") return kFile;
  if (entity == "supportedimages") return kImage;
  if (entity == "nodecounts") return kNodeCounts;
  return {};
}

}  // namespace openbatch::odata
