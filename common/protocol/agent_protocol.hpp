// Agent protocol: the messages a node agent and the scheduler exchange over /agent/v1/link,
// as plain structs, their JSON forms, and the frame codec. docs/dev/agent-protocol.md is the
// specification; the JSON field names listed there and next to each member here are the wire.
//
// A frame is one WebSocket text frame holding one JSON object {"type", "seq", ...fields}.
// decode() never throws: a frame that is too large, not JSON, too deep, of an unknown type or
// with a missing or mistyped field is a 400 "InvalidMessage" Error naming the field
// (PropertyName) and why (Reason). Unknown fields are ignored so a newer peer may add one.
// The to_json/from_json pairs follow nlohmann's conventions (from_json throws
// std::invalid_argument); code that reads untrusted input uses decode().
//
// The node inventory travels as an nlohmann::json object (the agent's discovery::Inventory
// JSON form): common does not depend on node_agent.
//
// Thread-safety: plain values; the functions are pure.
#pragma once

#include "common/error.hpp"
#include "common/files/node_tree.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace openbatch::protocol {

using json = nlohmann::json;

// Bumped on any incompatible change; hello and welcome carry it.
inline constexpr int kProtocolVersion = 1;
// Bounds applied by decode() to untrusted frames.
inline constexpr std::size_t kMaxFrameBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxArrayItems = 4096;
inline constexpr int kMaxJsonDepth = 32;
// Largest seq: the largest integer a JSON number carries exactly in every implementation.
inline constexpr std::uint64_t kMaxSeq = (std::uint64_t{1} << 53) - 1;

enum class AttemptState { Preparing, Running, Completed };  // "preparing" | "running" | "completed"
enum class TaskResult { Success, Failure };                 // "success" | "failure"
enum class ErrorCategory { UserError, ServerError };        // "usererror" | "servererror"
enum class CancelReason {
  TaskTerminated,  // "taskTerminated": the client terminated the task
  JobTerminated,   // "jobTerminated": the job was terminated or disabled with requeue/terminate
  TaskDeleted,     // "taskDeleted"
  Requeued,        // "requeued": the scheduler moved the task elsewhere (node offline, gang)
  UnknownAttempt,  // "unknownAttempt": the agent reported an attempt the scheduler did not dispatch
  NodeRemoved,     // "nodeRemoved": the node is leaving the pool
  // "taskCompleted": the multi-instance task this subtask belongs to ended (its primary exited,
  // or another instance failed); a subtask whose coordination command succeeded reports success.
  TaskCompleted,
};

enum class FileOp { Stat, List, Read, Remove };  // "stat" | "list" | "read" | "remove"

// Largest `data` of one fileResponse: base64 makes it 4/3 larger, which stays under
// kMaxFrameBytes with the other fields. The scheduler reads larger ranges in chunks.
inline constexpr std::size_t kMaxFileChunkBytes = 2 * 1024 * 1024;

std::string_view to_string(AttemptState s);
std::string_view to_string(TaskResult r);
std::string_view to_string(ErrorCategory c);
std::string_view to_string(CancelReason r);
std::string_view to_string(FileOp op);

struct EnvironmentSetting {
  std::string name;   // "name"
  std::string value;  // "value"
  bool operator==(const EnvironmentSetting&) const = default;
};

struct FailureInfo {
  ErrorCategory category = ErrorCategory::UserError;  // "category"
  std::string code;                                   // "code": e.g. "FailureExitCode"
  std::string message;                                // "message"
  bool operator==(const FailureInfo&) const = default;
};

struct TaskConstraints {
  std::optional<std::string> max_wall_clock_time;  // "maxWallClockTime": ISO 8601 duration
  std::optional<std::string> retention_time;       // "retentionTime": ISO 8601 duration
  std::int64_t max_task_retry_count = 0;           // "maxTaskRetryCount": -1 = unlimited
  bool operator==(const TaskConstraints&) const = default;
};

// The multi-instance part of an assignment: one per node placed for the task.
struct MultiInstance {
  int number_of_instances = 1;                 // "numberOfInstances"
  int subtask_id = 0;                          // "subtaskId": 0 is the primary
  std::string coordination_command_line;       // "coordinationCommandLine"
  json common_resource_files = json::array();  // "commonResourceFiles": Azure ResourceFile[]
  std::vector<std::string> host_list;          // "hostList": addresses, in subtask order
  std::vector<std::string> node_list;          // "nodeList": node ids, in subtask order
  std::string exec_token;                      // "execToken": per-task token for peer rsh launch
  // "execPorts": the port of each host's remote-launch server (openbatch-agent rsh), in
  // subtask order, 0 for a host whose agent runs none; optional (absent = empty), else
  // numberOfInstances entries.
  std::vector<int> exec_ports;
  // "hostNames": each node's hostname, in subtask order; optional, else numberOfInstances
  // entries. mpirun may name a host either way.
  std::vector<std::string> host_names;
  // "transport": the MPI transport the scheduler chose ("ucx" | "tcp"), and
  // "transportEnvironment": this node's variables for it, set before the job's and the task's
  // own settings (which win). Both optional.
  std::string transport;
  std::vector<EnvironmentSetting> transport_environment;
  bool operator==(const MultiInstance&) const = default;
};

// An application package the agent installs under applications/<applicationId>_<version>,
// downloaded from GET /agent/v1/packages/<sha256> (node token).
struct PackageRef {
  std::string application_id;    // "applicationId": as the application is spelled
  std::string version;           // "version": resolved (the default one when none was named)
  std::string sha256;            // "sha256": 64 lowercase hex digits
  std::uint64_t size = 0;        // "size": bytes of the .zip
  bool default_version = false;  // "defaultVersion": the reference named no version
  bool operator==(const PackageRef&) const = default;
};

// scheduler -> agent: run this attempt of a task.
struct Assignment {
  std::string attempt_id;                       // "attemptId"
  std::string job_id;                           // "jobId"
  std::string task_id;                          // "taskId"
  std::int64_t retry_count = 0;                 // "retryCount"
  std::int64_t requeue_count = 0;               // "requeueCount"
  std::string command_line;                     // "commandLine"
  std::vector<EnvironmentSetting> environment;  // "environmentSettings"
  json user_identity = json::object();  // "userIdentity": Azure UserIdentity; {} = pool default
  json resource_files = json::array();  // "resourceFiles": Azure ResourceFile[]
  TaskConstraints constraints;          // "constraints"
  int required_slots = 1;               // "requiredSlots"
  std::vector<std::string> gpu_uuids;   // "gpuUuids": GPUs placed for the attempt
  std::optional<MultiInstance> multi_instance;  // "multiInstance"
  // "jobEnvironmentSettings": the job's commonEnvironmentSettings; optional (absent = empty,
  // and omitted when empty). A task setting of the same name wins over a job one.
  std::vector<EnvironmentSetting> job_environment;
  // "applicationPackages": the task's applicationPackageReferences, resolved; installed before
  // the task starts (a failure is a pre-processing error). Omitted when empty.
  std::vector<PackageRef> application_packages;
  bool operator==(const Assignment&) const = default;
};

// scheduler -> agent: stop this attempt (SIGTERM, then SIGKILL) and report it completed.
struct Cancel {
  std::string attempt_id;                              // "attemptId"
  CancelReason reason = CancelReason::TaskTerminated;  // "reason"
  bool operator==(const Cancel&) const = default;
};

// agent -> scheduler: an attempt changed state.
struct Report {
  std::string attempt_id;                      // "attemptId"
  AttemptState state = AttemptState::Running;  // "state"
  std::optional<int> exit_code;                // "exitCode": completed after the process ran
  std::optional<std::string> start_time;       // "startTime": RFC 3339
  std::optional<std::string> end_time;         // "endTime": RFC 3339; required when completed
  std::optional<FailureInfo> failure_info;     // "failureInfo"
  std::optional<TaskResult> result;            // "result": required when completed
  // "coordinated": a multi-instance instance whose coordination command exited 0 (state
  // running); the primary waits for startApplication. Omitted when false.
  bool coordinated = false;
  bool operator==(const Report&) const = default;
};

// A report still in the agent's outbox, resent in hello with the seq it was first sent with.
struct PendingReport {
  std::uint64_t seq = 0;  // "seq"
  Report report;          // the report's own fields, beside "seq"
  bool operator==(const PendingReport&) const = default;
};

// What the agent is running right now, as listed in hello.
struct RunningAttempt {
  std::string attempt_id;                      // "attemptId"
  AttemptState state = AttemptState::Running;  // "state": preparing | running
  std::optional<std::string> start_time;       // "startTime"
  bool operator==(const RunningAttempt&) const = default;
};

// agent -> scheduler, first frame of every connection.
struct Hello {
  int protocol_version = kProtocolVersion;       // "protocolVersion"
  std::string agent_version;                     // "agentVersion"
  std::string node_id;                           // "nodeId"
  std::string inventory_hash;                    // "inventoryHash": hex SHA-256 of the inventory
  std::vector<RunningAttempt> running_attempts;  // "runningAttempts"
  std::vector<PendingReport> unacked_reports;    // "unackedReports"
  // "execPort": where the agent's remote-launch server listens (multi-instance tasks);
  // optional, absent = none.
  std::optional<int> exec_port;
  bool operator==(const Hello&) const = default;
};

// What a node does before it takes tasks (architecture.md "Node agent" 3-4): install the
// pool's packages, run its start task, check the pinned GPU driver. The agent runs it once per
// boot of the node and again whenever `generation` grows (a reboot through the API).
struct NodeSetup {
  std::uint64_t generation = 1;                   // "generation"
  json start_task;                                // "startTask": Azure StartTask; null = none
  std::vector<PackageRef> packages;               // "applicationPackages"
  std::optional<std::string> gpu_driver_version;  // "gpuDriverVersion": pinned; absent = any
  bool operator==(const NodeSetup&) const = default;
};

// Where a node's setup stands. ready: it may take tasks (idle/running in Azure's terms).
enum class SetupState { Starting, WaitingForStartTask, Ready, StartTaskFailed, Unusable };
// "starting" | "waitingforstarttask" | "ready" | "starttaskfailed" | "unusable"
std::string_view to_string(SetupState s);

// agent -> scheduler: the node's setup state, after every welcome and on every change. Not
// acked or journaled: the latest one wins, and the next welcome brings the current one again.
struct NodeStatus {
  std::uint64_t generation = 0;             // "generation": of the setup it describes
  SetupState state = SetupState::Starting;  // "state"
  json start_task_info;                     // "startTaskInfo": Azure StartTaskInformation or null
  json errors = json::array();              // "errors": Azure ComputeNodeError[]
  // "execPort": where the agent's remote-launch server listens now (it may start only after
  // welcome says the pool has inter-node communication); absent = none (yet).
  std::optional<int> exec_port;
  bool operator==(const NodeStatus&) const = default;
};

// scheduler -> agent, answer to hello.
struct Welcome {
  int protocol_version = kProtocolVersion;  // "protocolVersion"
  std::string node_id;                      // "nodeId"
  int heartbeat_interval_seconds = 10;      // "heartbeatIntervalSeconds"
  bool inventory_wanted = false;            // "inventoryWanted": hash unknown or different
  // Optional node facts for the task environment (AZ_BATCH_POOL_ID, AZ_BATCH_ACCOUNT_NAME,
  // AZ_BATCH_ACCOUNT_URL); absent or null decodes to nullopt, nullopt is omitted.
  std::optional<std::string> pool_id;       // "poolId"
  std::optional<std::string> account_name;  // "accountName"
  std::optional<std::string> account_url;   // "accountUrl"
  std::optional<NodeSetup> node_setup;      // "nodeSetup": absent = nothing to set up
  // "interNodeCommunication": the pool's enableInterNodeCommunication; only then does the
  // agent run its remote-launch server. Absent = false.
  bool inter_node_communication = false;
  // "nodeAddress": the address the pool's other nodes reach this one at (its ipAddress, its
  // entry in a multi-instance hostList): where the remote-launch server listens.
  std::optional<std::string> node_address;
  bool operator==(const Welcome&) const = default;
};

// agent -> scheduler: the node's inventory (after welcome asks, or when it changes).
struct InventoryUpdate {
  std::string inventory_hash;       // "inventoryHash"
  json inventory = json::object();  // "inventory": discovery::Inventory JSON form
  bool operator==(const InventoryUpdate&) const = default;
};

// agent -> scheduler, every heartbeatIntervalSeconds.
struct Heartbeat {
  int running_attempts = 0;  // "runningAttempts"
  int used_slots = 0;        // "usedSlots"
  bool operator==(const Heartbeat&) const = default;
};

// Either side: the peer's frames with these seqs are durably applied.
struct Ack {
  std::vector<std::uint64_t> seqs;  // "seqs"
  bool operator==(const Ack&) const = default;
};

// scheduler -> agent: one operation on the node's files (agent-protocol.md 3.9). Neither this
// nor its answer is acked or journaled: they are not durable state, and a lost one times out.
struct FileRequest {
  std::string request_id;                 // "requestId": minted by the scheduler, echoed back
  FileOp op = FileOp::Stat;               // "op"
  std::string path;                       // "path": relative to the node root, '/'-separated
  bool recursive = false;                 // "recursive": list / remove; omitted when false
  std::optional<std::uint64_t> limit;     // "limit": list; the agent caps it at kMaxArrayItems
  std::optional<files::ByteRange> range;  // "range": read; {"first", "last"?}
  bool operator==(const FileRequest&) const = default;
};

// agent -> scheduler: the answer to one fileRequest.
struct FileResponse {
  std::string request_id;               // "requestId"
  int status = 200;                     // "status": HTTP-like (200, 404, 409, 416, 500)
  std::optional<std::string> code;      // "code": the Azure error code when not 200
  std::optional<std::string> message;   // "message"
  std::optional<files::FileInfo> file;  // "file": stat and read
  std::optional<std::vector<files::FileInfo>> files;  // "files": list
  std::optional<std::string> data;  // "data": read, raw bytes here, base64 on the wire
  bool operator==(const FileResponse&) const = default;
};

// scheduler -> agent: every instance of this multi-instance attempt's task reported
// "coordinated": the primary runs the application command now. Not acked; resent after a
// reconnect while the primary still waits, and idempotent on the agent.
struct StartApplication {
  std::string attempt_id;  // "attemptId": the primary's attempt
  bool operator==(const StartApplication&) const = default;
};

using Payload = std::variant<Hello, Welcome, InventoryUpdate, Heartbeat, Assignment, Cancel, Report,
                             Ack, FileRequest, FileResponse, NodeStatus, StartApplication>;

struct Message {
  std::uint64_t seq = 0;  // "seq": per sender, increasing from 1; the agent's survives restarts
  Payload payload;
  bool operator==(const Message&) const = default;
};

// Writes a completed report into Azure's executionInfo / startTaskInfo shape: startTime,
// endTime (when the report has them), exitCode (removed when the process never ran), result,
// and failureInfo (on failure; removed otherwise). The caller sets `state` and the counts.
void put_completion(json& info, const Report& report);

// The "type" string of a payload: "hello", "welcome", "inventory", "heartbeat", "assignment",
// "cancel", "report", "ack", "fileRequest", "fileResponse", "nodeStatus", "startApplication".
std::string_view type_name(const Payload& payload);

std::string encode(const Message& message);
Result<Message> decode(std::string_view frame);

// The InvalidMessage error decode() returns; `field` is a path such as
// "assignment.environmentSettings[2].name".
Error invalid_message(std::string_view field, std::string_view reason);

void to_json(json& j, const EnvironmentSetting& v);
void to_json(json& j, const FailureInfo& v);
void to_json(json& j, const TaskConstraints& v);
void to_json(json& j, const MultiInstance& v);
void to_json(json& j, const Assignment& v);
void to_json(json& j, const Cancel& v);
void to_json(json& j, const Report& v);
void to_json(json& j, const PendingReport& v);
void to_json(json& j, const RunningAttempt& v);
void to_json(json& j, const Hello& v);
void to_json(json& j, const Welcome& v);
void to_json(json& j, const InventoryUpdate& v);
void to_json(json& j, const Heartbeat& v);
void to_json(json& j, const Ack& v);
void to_json(json& j, const FileRequest& v);
void to_json(json& j, const FileResponse& v);
void to_json(json& j, const PackageRef& v);
void to_json(json& j, const NodeSetup& v);
void to_json(json& j, const NodeStatus& v);
void to_json(json& j, const StartApplication& v);
void to_json(json& j, const Message& v);
// FileInfo's wire form: {"name", "isDirectory", "size", "creationTime", "lastModified", "mode"}.
json file_info_json(const files::FileInfo& v);

void from_json(const json& j, EnvironmentSetting& v);
void from_json(const json& j, FailureInfo& v);
void from_json(const json& j, TaskConstraints& v);
void from_json(const json& j, MultiInstance& v);
void from_json(const json& j, Assignment& v);
void from_json(const json& j, Cancel& v);
void from_json(const json& j, Report& v);
void from_json(const json& j, PendingReport& v);
void from_json(const json& j, RunningAttempt& v);
void from_json(const json& j, Hello& v);
void from_json(const json& j, Welcome& v);
void from_json(const json& j, InventoryUpdate& v);
void from_json(const json& j, Heartbeat& v);
void from_json(const json& j, Ack& v);
void from_json(const json& j, FileRequest& v);
void from_json(const json& j, FileResponse& v);
void from_json(const json& j, PackageRef& v);
void from_json(const json& j, NodeSetup& v);
void from_json(const json& j, NodeStatus& v);
void from_json(const json& j, StartApplication& v);
void from_json(const json& j, Message& v);

}  // namespace openbatch::protocol
