// Agent protocol codec: JSON forms of the messages and the non-throwing frame decoder. Reading
// goes through FieldReader, which keeps the first error it meets and returns defaults after
// it, so each message reader is a straight list of fields.
#include "common/protocol/agent_protocol.hpp"

#include "common/encoding.hpp"
#include "common/protocol/gang_assignment_encoding.hpp"
#include "common/time.hpp"

#include <array>
#include <limits>
#include <stdexcept>
#include <utility>

namespace openbatch::protocol {

namespace {

template <class E, std::size_t N>
struct EnumNames {
  std::array<std::pair<E, std::string_view>, N> names;

  std::string_view name(E e) const {
    for (const auto& [value, text] : names) {
      if (value == e) return text;
    }
    return {};
  }
  std::optional<E> parse(std::string_view text) const {
    for (const auto& [value, name] : names) {
      if (name == text) return value;
    }
    return std::nullopt;
  }
};

constexpr EnumNames<AttemptState, 3> kAttemptStates{{{{AttemptState::Preparing, "preparing"},
                                                      {AttemptState::Running, "running"},
                                                      {AttemptState::Completed, "completed"}}}};
constexpr EnumNames<TaskResult, 2> kResults{
    {{{TaskResult::Success, "success"}, {TaskResult::Failure, "failure"}}}};
constexpr EnumNames<ErrorCategory, 2> kCategories{
    {{{ErrorCategory::UserError, "usererror"}, {ErrorCategory::ServerError, "servererror"}}}};
constexpr EnumNames<CancelReason, 7> kCancelReasons{
    {{{CancelReason::TaskTerminated, "taskTerminated"},
      {CancelReason::JobTerminated, "jobTerminated"},
      {CancelReason::TaskDeleted, "taskDeleted"},
      {CancelReason::Requeued, "requeued"},
      {CancelReason::UnknownAttempt, "unknownAttempt"},
      {CancelReason::NodeRemoved, "nodeRemoved"},
      {CancelReason::TaskCompleted, "taskCompleted"}}}};
constexpr EnumNames<FileOp, 4> kFileOps{{{{FileOp::Stat, "stat"},
                                          {FileOp::List, "list"},
                                          {FileOp::Read, "read"},
                                          {FileOp::Remove, "remove"}}}};

constexpr EnumNames<SetupState, 5> kSetupStates{
    {{{SetupState::Starting, "starting"},
      {SetupState::WaitingForStartTask, "waitingforstarttask"},
      {SetupState::Ready, "ready"},
      {SetupState::StartTaskFailed, "starttaskfailed"},
      {SetupState::Unusable, "unusable"}}}};

// Reads the fields of one JSON object. The first failure is kept in *error; later calls
// return defaults and record nothing.
class FieldReader {
 public:
  FieldReader(const json& object, std::string path, std::optional<Error>* error)
      : object_(object), path_(std::move(path)), error_(error) {
    if (!object_.is_object()) fail(path_, "must be a JSON object");
  }

  bool ok() const { return !error_->has_value(); }
  std::optional<Error>* error_slot() const { return error_; }
  const std::string& path() const { return path_; }
  std::string field(std::string_view key) const { return path_ + "." + std::string(key); }

  void fail(const std::string& field_path, std::string_view reason) {
    if (ok()) *error_ = invalid_message(field_path, reason);
  }

  // The member, or nullptr when absent (a JSON null counts as absent); fails when required.
  const json* find(std::string_view key, bool required) {
    if (!ok()) return nullptr;
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) {
      if (required) fail(field(key), "is required");
      return nullptr;
    }
    return &*it;
  }

  std::optional<std::string> optional_string(std::string_view key, bool required = false,
                                             bool allow_empty = true) {
    const json* v = find(key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      fail(field(key), "must be a string");
      return std::nullopt;
    }
    std::string s = v->get<std::string>();
    if (!allow_empty && s.empty()) {
      fail(field(key), "must not be empty");
      return std::nullopt;
    }
    return s;
  }
  std::string string(std::string_view key, bool allow_empty = false) {
    return optional_string(key, true, allow_empty).value_or(std::string());
  }

  std::optional<std::int64_t> optional_integer(std::string_view key, std::int64_t min,
                                               std::int64_t max, bool required = false) {
    const json* v = find(key, required);
    if (v == nullptr) return std::nullopt;
    return integer_value(*v, field(key), min, max);
  }
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max) {
    return optional_integer(key, min, max, true).value_or(min);
  }

  std::optional<std::int64_t> integer_value(const json& v, const std::string& field_path,
                                            std::int64_t min, std::int64_t max) {
    if (!v.is_number_integer()) {
      fail(field_path, "must be an integer");
      return std::nullopt;
    }
    if (v.is_number_unsigned() &&
        v.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(field_path, "is out of range");
      return std::nullopt;
    }
    std::int64_t n = v.get<std::int64_t>();
    if (n < min || n > max) {
      fail(field_path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
    return n;
  }

  bool boolean(std::string_view key, bool required = true) {
    const json* v = find(key, required);
    if (v == nullptr) return false;
    if (!v->is_boolean()) {
      fail(field(key), "must be a boolean");
      return false;
    }
    return v->get<bool>();
  }

  // A required (or optional) member that must be an object; returned by copy.
  json object(std::string_view key, bool required) {
    const json* v = find(key, required);
    if (v == nullptr) return json::object();
    if (!v->is_object()) {
      fail(field(key), "must be a JSON object");
      return json::object();
    }
    return *v;
  }

  // An array member bounded by kMaxArrayItems; an absent optional one reads as empty.
  const json& array(std::string_view key, bool required) {
    static const json kEmpty = json::array();
    const json* v = find(key, required);
    if (v == nullptr) return kEmpty;
    if (!v->is_array()) {
      fail(field(key), "must be a JSON array");
      return kEmpty;
    }
    if (v->size() > kMaxArrayItems) {
      fail(field(key), "has more than " + std::to_string(kMaxArrayItems) + " items");
      return kEmpty;
    }
    return *v;
  }

  std::vector<std::string> string_array(std::string_view key, bool required) {
    std::vector<std::string> out;
    const json& a = array(key, required);
    for (std::size_t i = 0; i < a.size() && ok(); ++i) {
      if (!a[i].is_string() || a[i].get_ref<const std::string&>().empty()) {
        fail(item(key, i), "must be a non-empty string");
      } else {
        out.push_back(a[i].get<std::string>());
      }
    }
    return out;
  }

  template <class E, std::size_t N>
  std::optional<E> optional_enum(std::string_view key, const EnumNames<E, N>& names,
                                 bool required = false) {
    std::optional<std::string> s = optional_string(key, required);
    if (!s) return std::nullopt;
    std::optional<E> e = names.parse(*s);
    if (!e) fail(field(key), "has an unknown value '" + *s + "'");
    return e;
  }
  template <class E, std::size_t N>
  E enumeration(std::string_view key, const EnumNames<E, N>& names) {
    return optional_enum(key, names, true).value_or(names.names[0].first);
  }

  std::string item(std::string_view key, std::size_t i) const {
    return field(key) + "[" + std::to_string(i) + "]";
  }

 private:
  const json& object_;
  std::string path_;
  std::optional<Error>* error_;
};

constexpr std::int64_t kMaxInt = std::numeric_limits<int>::max();

// Each reader fills `out` from `r`; the caller checks r.ok() afterwards.
void read(FieldReader& r, EnvironmentSetting& out) {
  out.name = r.string("name");
  out.value = r.string("value", true);
}

void read(FieldReader& r, FailureInfo& out) {
  out.category = r.enumeration("category", kCategories);
  out.code = r.string("code");
  out.message = r.string("message", true);
}

void read(FieldReader& r, TaskConstraints& out) {
  out.max_wall_clock_time = r.optional_string("maxWallClockTime", false, false);
  out.retention_time = r.optional_string("retentionTime", false, false);
  out.max_task_retry_count = r.optional_integer("maxTaskRetryCount", -1, kMaxInt).value_or(0);
}

template <class T>
void read_items(FieldReader& r, std::string_view key, bool required, std::vector<T>& out,
                std::optional<Error>* error) {
  const json& a = r.array(key, required);
  for (std::size_t i = 0; i < a.size() && r.ok(); ++i) {
    FieldReader item(a[i], r.item(key, i), error);
    T value;
    if (item.ok()) read(item, value);
    out.push_back(std::move(value));
  }
}

void read_array_of_objects(FieldReader& r, std::string_view key, json& out) {
  const json& a = r.array(key, false);
  for (std::size_t i = 0; i < a.size() && r.ok(); ++i) {
    if (!a[i].is_object()) r.fail(r.item(key, i), "must be a JSON object");
  }
  out = r.ok() ? a : json::array();
}

void read_multi_instance(FieldReader& r, MultiInstance& out) {
  out.number_of_instances = static_cast<int>(r.integer("numberOfInstances", 1, 4096));
  out.subtask_id = static_cast<int>(r.integer("subtaskId", 0, 4095));
  out.coordination_command_line = r.optional_string("coordinationCommandLine").value_or("");
  read_array_of_objects(r, "commonResourceFiles", out.common_resource_files);
  out.host_list = r.string_array("hostList", true);
  out.node_list = r.string_array("nodeList", true);
  out.exec_token = r.string("execToken");
  const json& ports = r.array("execPorts", false);
  for (std::size_t i = 0; i < ports.size() && r.ok(); ++i) {
    if (auto port = r.integer_value(ports[i], r.item("execPorts", i), 0, 65535)) {
      out.exec_ports.push_back(static_cast<int>(*port));
    }
  }
  out.host_names = r.string_array("hostNames", false);
  out.transport = r.optional_string("transport", false, true).value_or("");
  read_items(r, "transportEnvironment", false, out.transport_environment, r.error_slot());
  if (!r.ok()) return;
  auto n = static_cast<std::size_t>(out.number_of_instances);
  if (out.subtask_id >= out.number_of_instances) {
    r.fail(r.field("subtaskId"), "must be less than numberOfInstances");
  } else if (out.host_list.size() != n) {
    r.fail(r.field("hostList"), "must list numberOfInstances hosts");
  } else if (out.node_list.size() != n) {
    r.fail(r.field("nodeList"), "must list numberOfInstances nodes");
  } else if (!out.exec_ports.empty() && out.exec_ports.size() != n) {
    r.fail(r.field("execPorts"), "must list numberOfInstances ports");
  } else if (!out.host_names.empty() && out.host_names.size() != n) {
    r.fail(r.field("hostNames"), "must list numberOfInstances names");
  }
}

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void read(FieldReader& r, PackageRef& out) {
  out.application_id = r.string("applicationId");
  out.version = r.string("version");
  out.sha256 = r.string("sha256");
  out.size = static_cast<std::uint64_t>(r.integer("size", 0, static_cast<std::int64_t>(kMaxSeq)));
  out.default_version = r.boolean("defaultVersion", false);
  if (r.ok() && !is_sha256_hex(out.sha256)) {
    r.fail(r.field("sha256"), "must be 64 lowercase hex digits");
  }
}

void read(FieldReader& r, Assignment& out, std::optional<Error>* error) {
  out.attempt_id = r.string("attemptId");
  out.job_id = r.string("jobId");
  out.task_id = r.string("taskId");
  out.retry_count = r.integer("retryCount", 0, kMaxInt);
  out.requeue_count = r.integer("requeueCount", 0, kMaxInt);
  out.command_line = r.string("commandLine");
  read_items(r, "environmentSettings", false, out.environment, error);
  out.user_identity = r.object("userIdentity", false);
  read_array_of_objects(r, "resourceFiles", out.resource_files);
  const json constraints_json = r.object("constraints", false);
  FieldReader constraints(constraints_json, r.field("constraints"), error);
  if (r.ok()) read(constraints, out.constraints);
  out.required_slots = static_cast<int>(r.integer("requiredSlots", 1, 4096));
  out.gpu_uuids = r.string_array("gpuUuids", false);
  if (const json* mi = r.find("multiInstance", false)) {
    FieldReader m(*mi, r.field("multiInstance"), error);
    MultiInstance value;
    if (m.ok()) read_multi_instance(m, value);
    out.multi_instance = std::move(value);
  }
  read_items(r, "jobEnvironmentSettings", false, out.job_environment, error);
  read_items(r, "applicationPackages", false, out.application_packages, error);
}

void read(FieldReader& r, Cancel& out) {
  out.attempt_id = r.string("attemptId");
  out.reason = r.enumeration("reason", kCancelReasons);
}

void read(FieldReader& r, Report& out, std::optional<Error>* error) {
  out.attempt_id = r.string("attemptId");
  out.state = r.enumeration("state", kAttemptStates);
  if (auto code = r.optional_integer("exitCode", std::numeric_limits<int>::min(), kMaxInt)) {
    out.exit_code = static_cast<int>(*code);
  }
  out.start_time = r.optional_string("startTime", false, false);
  out.end_time = r.optional_string("endTime", false, false);
  if (const json* fi = r.find("failureInfo", false)) {
    FieldReader f(*fi, r.field("failureInfo"), error);
    FailureInfo value;
    if (f.ok()) read(f, value);
    out.failure_info = std::move(value);
  }
  out.result = r.optional_enum("result", kResults);
  out.coordinated = r.boolean("coordinated", false);
  if (r.ok() && out.coordinated && out.state != AttemptState::Running) {
    r.fail(r.field("coordinated"), "is only allowed when state is running");
  }
  if (!r.ok() || out.state != AttemptState::Completed) return;
  if (!out.result) {
    r.fail(r.field("result"), "is required when state is completed");
  } else if (!out.end_time) {
    r.fail(r.field("endTime"), "is required when state is completed");
  }
}

void read(FieldReader& r, PendingReport& out, std::optional<Error>* error) {
  out.seq = static_cast<std::uint64_t>(r.integer("seq", 1, static_cast<std::int64_t>(kMaxSeq)));
  read(r, out.report, error);
}

void read(FieldReader& r, RunningAttempt& out) {
  out.attempt_id = r.string("attemptId");
  out.state = r.enumeration("state", kAttemptStates);
  out.start_time = r.optional_string("startTime", false, false);
  if (r.ok() && out.state == AttemptState::Completed) {
    r.fail(r.field("state"), "must be preparing or running");
  }
}

void read(FieldReader& r, Hello& out, std::optional<Error>* error) {
  out.protocol_version = static_cast<int>(r.integer("protocolVersion", 1, kMaxInt));
  out.agent_version = r.string("agentVersion");
  out.node_id = r.string("nodeId");
  out.inventory_hash = r.string("inventoryHash", true);
  read_items(r, "runningAttempts", true, out.running_attempts, error);
  const json& pending = r.array("unackedReports", true);
  for (std::size_t i = 0; i < pending.size() && r.ok(); ++i) {
    FieldReader item(pending[i], r.item("unackedReports", i), error);
    PendingReport value;
    if (item.ok()) read(item, value, error);
    out.unacked_reports.push_back(std::move(value));
  }
  if (auto port = r.optional_integer("execPort", 1, 65535)) out.exec_port = static_cast<int>(*port);
}

void read(FieldReader& r, StartApplication& out) { out.attempt_id = r.string("attemptId"); }

void read(FieldReader& r, NodeSetup& out, std::optional<Error>* error) {
  out.generation =
      static_cast<std::uint64_t>(r.integer("generation", 1, static_cast<std::int64_t>(kMaxSeq)));
  if (const json* st = r.find("startTask", false); st != nullptr && !st->is_null()) {
    if (!st->is_object()) {
      r.fail(r.field("startTask"), "must be a JSON object or null");
    } else {
      out.start_task = *st;
    }
  }
  read_items(r, "applicationPackages", false, out.packages, error);
  out.gpu_driver_version = r.optional_string("gpuDriverVersion");
}

void read(FieldReader& r, NodeStatus& out) {
  out.generation =
      static_cast<std::uint64_t>(r.integer("generation", 0, static_cast<std::int64_t>(kMaxSeq)));
  out.state = r.enumeration("state", kSetupStates);
  if (const json* info = r.find("startTaskInfo", false); info != nullptr && !info->is_null()) {
    if (!info->is_object()) {
      r.fail(r.field("startTaskInfo"), "must be a JSON object or null");
    } else {
      out.start_task_info = *info;
    }
  }
  read_array_of_objects(r, "errors", out.errors);
  if (auto port = r.optional_integer("execPort", 1, 65535)) out.exec_port = static_cast<int>(*port);
}

void read(FieldReader& r, Welcome& out, std::optional<Error>* error) {
  out.protocol_version = static_cast<int>(r.integer("protocolVersion", 1, kMaxInt));
  out.node_id = r.string("nodeId");
  out.heartbeat_interval_seconds = static_cast<int>(r.integer("heartbeatIntervalSeconds", 1, 3600));
  out.inventory_wanted = r.boolean("inventoryWanted");
  out.pool_id = r.optional_string("poolId");
  out.account_name = r.optional_string("accountName");
  out.account_url = r.optional_string("accountUrl");
  if (const json* setup = r.find("nodeSetup", false); setup != nullptr && !setup->is_null()) {
    FieldReader s(*setup, r.field("nodeSetup"), error);
    NodeSetup value;
    if (s.ok()) read(s, value, error);
    out.node_setup = std::move(value);
  }
  out.inter_node_communication = r.boolean("interNodeCommunication", false);
  out.node_address = r.optional_string("nodeAddress");
}

void read(FieldReader& r, InventoryUpdate& out) {
  out.inventory_hash = r.string("inventoryHash");
  out.inventory = r.object("inventory", true);
}

void read(FieldReader& r, Heartbeat& out) {
  out.running_attempts = static_cast<int>(r.integer("runningAttempts", 0, kMaxInt));
  out.used_slots = static_cast<int>(r.integer("usedSlots", 0, kMaxInt));
}

void read(FieldReader& r, Ack& out) {
  const json& a = r.array("seqs", true);
  for (std::size_t i = 0; i < a.size() && r.ok(); ++i) {
    auto seq = r.integer_value(a[i], r.item("seqs", i), 1, static_cast<std::int64_t>(kMaxSeq));
    if (seq) out.seqs.push_back(static_cast<std::uint64_t>(*seq));
  }
}

// ---- file requests (agent-protocol.md 3.9) ----

// Sizes and offsets: exact JSON integers.
constexpr std::int64_t kMaxJsonInteger = static_cast<std::int64_t>(kMaxSeq);

TimePoint time_field(FieldReader& r, std::string_view key) {
  const std::string text = r.string(key);
  if (!r.ok()) return {};
  auto t = try_parse_iso8601(text);
  if (!t) r.fail(r.field(key), "must be an RFC 3339 time");
  return t.value_or(TimePoint{});
}

void read(FieldReader& r, files::FileInfo& out) {
  out.name = r.string("name", true);
  out.is_directory = r.boolean("isDirectory");
  out.size = static_cast<std::uint64_t>(r.integer("size", 0, kMaxJsonInteger));
  out.creation_time = time_field(r, "creationTime");
  out.last_modified = time_field(r, "lastModified");
  out.mode = static_cast<unsigned>(r.integer("mode", 0, 07777));
}

void read(FieldReader& r, files::ByteRange& out) {
  out.first = static_cast<std::uint64_t>(r.integer("first", 0, kMaxJsonInteger));
  if (auto last = r.optional_integer("last", 0, kMaxJsonInteger)) {
    out.last = static_cast<std::uint64_t>(*last);
    if (*out.last < out.first) r.fail(r.field("last"), "must not be less than first");
  }
}

void read(FieldReader& r, FileRequest& out, std::optional<Error>* error) {
  out.request_id = r.string("requestId");
  out.op = r.enumeration("op", kFileOps);
  out.path = r.string("path", true);
  out.recursive = r.boolean("recursive", false);
  if (auto limit = r.optional_integer("limit", 0, kMaxJsonInteger)) {
    out.limit = static_cast<std::uint64_t>(*limit);
  }
  if (const json* range = r.find("range", false)) {
    FieldReader rr(*range, r.field("range"), error);
    files::ByteRange value;
    if (rr.ok()) read(rr, value);
    out.range = value;
  }
}

void read(FieldReader& r, FileResponse& out, std::optional<Error>* error) {
  out.request_id = r.string("requestId");
  out.status = static_cast<int>(r.integer("status", 100, 599));
  out.code = r.optional_string("code");
  out.message = r.optional_string("message");
  if (const json* file = r.find("file", false)) {
    FieldReader f(*file, r.field("file"), error);
    files::FileInfo value;
    if (f.ok()) read(f, value);
    out.file = std::move(value);
  }
  if (r.find("files", false) != nullptr) {
    std::vector<files::FileInfo> list;
    read_items(r, "files", false, list, error);
    out.files = std::move(list);
  }
  if (auto data = r.optional_string("data")) {
    auto bytes = encoding::base64_decode(*data);
    if (!bytes) {
      r.fail(r.field("data"), "must be base64");
    } else {
      out.data = std::move(*bytes);
    }
  }
}

// Calls the reader for T, with or without the error pointer it may need for nested objects.
template <class T>
void read_any(FieldReader& r, T& out, std::optional<Error>* error) {
  if constexpr (requires { read(r, out, error); }) {
    read(r, out, error);
  } else {
    read(r, out);
  }
}

template <class T>
Result<T> parse(const json& j, std::string path) {
  std::optional<Error> error;
  FieldReader r(j, std::move(path), &error);
  T out;
  if (r.ok()) read_any(r, out, &error);
  if (error) return *error;
  return out;
}

template <class T>
void from_json_or_throw(const json& j, T& out, std::string_view path) {
  Result<T> r = parse<T>(j, std::string(path));
  if (!r) {
    throw std::invalid_argument(r.error().detail("PropertyName") + ": " +
                                r.error().detail("Reason"));
  }
  out = std::move(*r);
}

// Depth of nesting, stopping once it passes `limit`.
int depth(const json& j, int limit) {
  if (!j.is_structured() || limit < 0) return 0;
  int deepest = 0;
  for (const auto& child : j) {
    deepest = std::max(deepest, depth(child, limit - 1));
    if (deepest > limit) break;
  }
  return deepest + 1;
}

template <class T>
Result<Payload> parse_payload(const json& j, std::string_view type) {
  Result<T> r = parse<T>(j, std::string(type));
  if (!r) return r.error();
  return Payload(std::move(*r));
}

void put_optional(json& j, std::string_view key, const std::optional<std::string>& v) {
  if (v) j[key] = *v;
}

}  // namespace

std::string_view to_string(AttemptState s) { return kAttemptStates.name(s); }
std::string_view to_string(TaskResult r) { return kResults.name(r); }
std::string_view to_string(ErrorCategory c) { return kCategories.name(c); }
std::string_view to_string(CancelReason r) { return kCancelReasons.name(r); }
std::string_view to_string(FileOp op) { return kFileOps.name(op); }
std::string_view to_string(SetupState s) { return kSetupStates.name(s); }

Error invalid_message(std::string_view field, std::string_view reason) {
  return Error(400, "InvalidMessage", "The agent protocol message is not valid.",
               {{"PropertyName", std::string(field)}, {"Reason", std::string(reason)}});
}

void put_completion(json& info, const Report& report) {
  if (report.start_time) info["startTime"] = *report.start_time;
  if (report.end_time) info["endTime"] = *report.end_time;
  if (report.exit_code) {
    info["exitCode"] = *report.exit_code;
  } else {
    info.erase("exitCode");
  }
  const bool success = report.result == TaskResult::Success;
  info["result"] = success ? "success" : "failure";
  if (report.failure_info && !success) {
    info["failureInfo"] = *report.failure_info;
  } else {
    info.erase("failureInfo");
  }
}

std::string_view type_name(const Payload& payload) {
  static constexpr std::array<std::string_view, std::variant_size_v<Payload>> kNames{
      "hello",  "welcome", "inventory",   "heartbeat",    "assignment", "cancel",
      "report", "ack",     "fileRequest", "fileResponse", "nodeStatus", "startApplication"};
  return kNames[payload.index()];
}

void to_json(json& j, const EnvironmentSetting& v) { j = {{"name", v.name}, {"value", v.value}}; }

void to_json(json& j, const FailureInfo& v) {
  j = {{"category", to_string(v.category)}, {"code", v.code}, {"message", v.message}};
}

void to_json(json& j, const TaskConstraints& v) {
  j = {{"maxTaskRetryCount", v.max_task_retry_count}};
  put_optional(j, "maxWallClockTime", v.max_wall_clock_time);
  put_optional(j, "retentionTime", v.retention_time);
}

json multi_instance_without_lists(const MultiInstance& v) {
  json j = {{"numberOfInstances", v.number_of_instances},
            {"subtaskId", v.subtask_id},
            {"coordinationCommandLine", v.coordination_command_line},
            {"commonResourceFiles", v.common_resource_files},
            {"execToken", v.exec_token}};
  if (!v.transport.empty()) j["transport"] = v.transport;
  if (!v.transport_environment.empty()) j["transportEnvironment"] = v.transport_environment;
  return j;
}

void to_json(json& j, const MultiInstance& v) {
  j = multi_instance_without_lists(v);
  j["hostList"] = v.host_list;
  j["nodeList"] = v.node_list;
  if (!v.exec_ports.empty()) j["execPorts"] = v.exec_ports;
  if (!v.host_names.empty()) j["hostNames"] = v.host_names;
}

json assignment_without_multi_instance(const Assignment& v) {
  json j = {{"attemptId", v.attempt_id},
            {"jobId", v.job_id},
            {"taskId", v.task_id},
            {"retryCount", v.retry_count},
            {"requeueCount", v.requeue_count},
            {"commandLine", v.command_line},
            {"environmentSettings", v.environment},
            {"userIdentity", v.user_identity},
            {"resourceFiles", v.resource_files},
            {"constraints", v.constraints},
            {"requiredSlots", v.required_slots},
            {"gpuUuids", v.gpu_uuids}};
  if (!v.job_environment.empty()) j["jobEnvironmentSettings"] = v.job_environment;
  if (!v.application_packages.empty()) j["applicationPackages"] = v.application_packages;
  return j;
}

void to_json(json& j, const Assignment& v) {
  j = assignment_without_multi_instance(v);
  if (v.multi_instance) j["multiInstance"] = *v.multi_instance;
}

void to_json(json& j, const PackageRef& v) {
  j = {{"applicationId", v.application_id},
       {"version", v.version},
       {"sha256", v.sha256},
       {"size", v.size}};
  if (v.default_version) j["defaultVersion"] = true;
}

void to_json(json& j, const NodeSetup& v) {
  j = {{"generation", v.generation},
       {"startTask", v.start_task},
       {"applicationPackages", v.packages}};
  put_optional(j, "gpuDriverVersion", v.gpu_driver_version);
}

void to_json(json& j, const NodeStatus& v) {
  j = {{"generation", v.generation},
       {"state", to_string(v.state)},
       {"startTaskInfo", v.start_task_info},
       {"errors", v.errors}};
  if (v.exec_port) j["execPort"] = *v.exec_port;
}

void to_json(json& j, const Cancel& v) {
  j = {{"attemptId", v.attempt_id}, {"reason", to_string(v.reason)}};
}

void to_json(json& j, const Report& v) {
  j = {{"attemptId", v.attempt_id}, {"state", to_string(v.state)}};
  if (v.exit_code) j["exitCode"] = *v.exit_code;
  put_optional(j, "startTime", v.start_time);
  put_optional(j, "endTime", v.end_time);
  if (v.failure_info) j["failureInfo"] = *v.failure_info;
  if (v.result) j["result"] = to_string(*v.result);
  if (v.coordinated) j["coordinated"] = true;
}

void to_json(json& j, const PendingReport& v) {
  to_json(j, v.report);
  j["seq"] = v.seq;
}

void to_json(json& j, const RunningAttempt& v) {
  j = {{"attemptId", v.attempt_id}, {"state", to_string(v.state)}};
  put_optional(j, "startTime", v.start_time);
}

void to_json(json& j, const Hello& v) {
  j = {{"protocolVersion", v.protocol_version},
       {"agentVersion", v.agent_version},
       {"nodeId", v.node_id},
       {"inventoryHash", v.inventory_hash},
       {"runningAttempts", v.running_attempts},
       {"unackedReports", v.unacked_reports}};
  if (v.exec_port) j["execPort"] = *v.exec_port;
}

void to_json(json& j, const StartApplication& v) { j = {{"attemptId", v.attempt_id}}; }

void to_json(json& j, const Welcome& v) {
  j = {{"protocolVersion", v.protocol_version},
       {"nodeId", v.node_id},
       {"heartbeatIntervalSeconds", v.heartbeat_interval_seconds},
       {"inventoryWanted", v.inventory_wanted}};
  put_optional(j, "poolId", v.pool_id);
  put_optional(j, "accountName", v.account_name);
  put_optional(j, "accountUrl", v.account_url);
  if (v.node_setup) j["nodeSetup"] = *v.node_setup;
  if (v.inter_node_communication) j["interNodeCommunication"] = true;
  put_optional(j, "nodeAddress", v.node_address);
}

void to_json(json& j, const InventoryUpdate& v) {
  j = {{"inventoryHash", v.inventory_hash}, {"inventory", v.inventory}};
}

void to_json(json& j, const Heartbeat& v) {
  j = {{"runningAttempts", v.running_attempts}, {"usedSlots", v.used_slots}};
}

void to_json(json& j, const Ack& v) { j = {{"seqs", v.seqs}}; }

json file_info_json(const files::FileInfo& v) {
  return {{"name", v.name},
          {"isDirectory", v.is_directory},
          {"size", v.size},
          {"creationTime", format_iso8601(v.creation_time)},
          {"lastModified", format_iso8601(v.last_modified)},
          {"mode", v.mode}};
}

void to_json(json& j, const FileRequest& v) {
  j = {{"requestId", v.request_id}, {"op", to_string(v.op)}, {"path", v.path}};
  if (v.recursive) j["recursive"] = true;
  if (v.limit) j["limit"] = *v.limit;
  if (v.range) {
    json range = {{"first", v.range->first}};
    if (v.range->last) range["last"] = *v.range->last;
    j["range"] = std::move(range);
  }
}

void to_json(json& j, const FileResponse& v) {
  j = {{"requestId", v.request_id}, {"status", v.status}};
  put_optional(j, "code", v.code);
  put_optional(j, "message", v.message);
  if (v.file) j["file"] = file_info_json(*v.file);
  if (v.files) {
    json list = json::array();
    for (const auto& f : *v.files) list.push_back(file_info_json(f));
    j["files"] = std::move(list);
  }
  if (v.data) j["data"] = encoding::base64_encode(*v.data);
}

void to_json(json& j, const Message& v) {
  std::visit([&j](const auto& payload) { to_json(j, payload); }, v.payload);
  j["type"] = type_name(v.payload);
  j["seq"] = v.seq;
}

void from_json(const json& j, EnvironmentSetting& v) {
  from_json_or_throw(j, v, "environmentSetting");
}
void from_json(const json& j, FailureInfo& v) { from_json_or_throw(j, v, "failureInfo"); }
void from_json(const json& j, TaskConstraints& v) { from_json_or_throw(j, v, "constraints"); }
void from_json(const json& j, MultiInstance& v) {
  std::optional<Error> error;
  FieldReader r(j, "multiInstance", &error);
  MultiInstance out;
  if (r.ok()) read_multi_instance(r, out);
  if (error) {
    throw std::invalid_argument(error->detail("PropertyName") + ": " + error->detail("Reason"));
  }
  v = std::move(out);
}
void from_json(const json& j, Assignment& v) { from_json_or_throw(j, v, "assignment"); }
void from_json(const json& j, Cancel& v) { from_json_or_throw(j, v, "cancel"); }
void from_json(const json& j, Report& v) { from_json_or_throw(j, v, "report"); }
void from_json(const json& j, PendingReport& v) { from_json_or_throw(j, v, "pendingReport"); }
void from_json(const json& j, RunningAttempt& v) { from_json_or_throw(j, v, "runningAttempt"); }
void from_json(const json& j, Hello& v) { from_json_or_throw(j, v, "hello"); }
void from_json(const json& j, Welcome& v) { from_json_or_throw(j, v, "welcome"); }
void from_json(const json& j, InventoryUpdate& v) { from_json_or_throw(j, v, "inventory"); }
void from_json(const json& j, Heartbeat& v) { from_json_or_throw(j, v, "heartbeat"); }
void from_json(const json& j, Ack& v) { from_json_or_throw(j, v, "ack"); }
void from_json(const json& j, FileRequest& v) { from_json_or_throw(j, v, "fileRequest"); }
void from_json(const json& j, FileResponse& v) { from_json_or_throw(j, v, "fileResponse"); }
void from_json(const json& j, PackageRef& v) { from_json_or_throw(j, v, "packageRef"); }
void from_json(const json& j, NodeSetup& v) { from_json_or_throw(j, v, "nodeSetup"); }
void from_json(const json& j, NodeStatus& v) { from_json_or_throw(j, v, "nodeStatus"); }
void from_json(const json& j, StartApplication& v) { from_json_or_throw(j, v, "startApplication"); }

void from_json(const json& j, Message& v) {
  Result<Message> r = decode(j.dump());
  if (!r) {
    throw std::invalid_argument(r.error().detail("PropertyName") + ": " +
                                r.error().detail("Reason"));
  }
  v = std::move(*r);
}

std::string encode(const Message& message) {
  if (const auto* assignment = std::get_if<Assignment>(&message.payload);
      assignment && assignment->multi_instance &&
      assignment->multi_instance->host_list.size() >= kSharedGangListsFrom) {
    return encode_gang_assignment(message.seq, *assignment);
  }
  json j;
  to_json(j, message);
  return j.dump();
}

Result<Message> decode(std::string_view frame) {
  if (frame.size() > kMaxFrameBytes) {
    return invalid_message("frame", "is larger than " + std::to_string(kMaxFrameBytes) + " bytes");
  }
  json j = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_message("frame", "is not valid JSON");
  if (depth(j, kMaxJsonDepth) > kMaxJsonDepth) {
    return invalid_message("frame", "nests deeper than " + std::to_string(kMaxJsonDepth));
  }
  std::optional<Error> error;
  FieldReader envelope(j, "frame", &error);
  std::string type = envelope.string("type");
  auto seq =
      static_cast<std::uint64_t>(envelope.integer("seq", 1, static_cast<std::int64_t>(kMaxSeq)));
  if (error) return *error;

  Result<Payload> payload = invalid_message("type", "has an unknown value '" + type + "'");
  if (type == "hello")
    payload = parse_payload<Hello>(j, type);
  else if (type == "welcome")
    payload = parse_payload<Welcome>(j, type);
  else if (type == "inventory")
    payload = parse_payload<InventoryUpdate>(j, type);
  else if (type == "heartbeat")
    payload = parse_payload<Heartbeat>(j, type);
  else if (type == "assignment")
    payload = parse_payload<Assignment>(j, type);
  else if (type == "cancel")
    payload = parse_payload<Cancel>(j, type);
  else if (type == "report")
    payload = parse_payload<Report>(j, type);
  else if (type == "ack")
    payload = parse_payload<Ack>(j, type);
  else if (type == "fileRequest")
    payload = parse_payload<FileRequest>(j, type);
  else if (type == "fileResponse")
    payload = parse_payload<FileResponse>(j, type);
  else if (type == "nodeStatus")
    payload = parse_payload<NodeStatus>(j, type);
  else if (type == "startApplication")
    payload = parse_payload<StartApplication>(j, type);
  if (!payload) return payload.error();
  return Message{seq, std::move(*payload)};
}

}  // namespace openbatch::protocol
