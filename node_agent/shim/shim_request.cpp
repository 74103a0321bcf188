// Agent <-> shim messages (see shim_request.hpp).
#include "node_agent/shim/shim_request.hpp"

#include <nlohmann/json.hpp>

namespace openbatch::agent::shim {
namespace {

using nlohmann::json;

Error invalid(std::string why) {
  return Error(400, "InvalidShimRequest", "shim request: " + std::move(why));
}

}  // namespace

std::string encode_request(const ShimRequest& r) {
  const exec::LaunchSpec& s = r.spec;
  json j = {{"argv", s.argv},
            {"env", s.env},
            {"cwd", s.cwd.string()},
            {"newProcessGroup", s.new_process_group},
            {"maxOutputBytes", r.max_output_bytes},
            {"stdoutName", r.stdout_name},
            {"stderrName", r.stderr_name},
            {"bootId", r.boot_id}};
  if (s.uid) j["uid"] = *s.uid;
  if (s.gid) j["gid"] = *s.gid;
  if (s.groups) j["groups"] = *s.groups;
  json limits = json::array();
  for (const auto& l : s.rlimits)
    limits.push_back({{"resource", l.resource}, {"soft", l.soft}, {"hard", l.hard}});
  j["rlimits"] = std::move(limits);
  return j.dump();
}

Result<ShimRequest> decode_request(std::string_view text) {
  if (text.size() > kMaxRequestBytes) return invalid("too large");
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return invalid("not a JSON object");
  try {
    ShimRequest r;
    exec::LaunchSpec& s = r.spec;
    s.argv = j.at("argv").get<std::vector<std::string>>();
    if (s.argv.empty()) return invalid("argv is empty");
    s.env = j.at("env").get<std::vector<std::string>>();
    s.cwd = j.at("cwd").get<std::string>();
    s.new_process_group = j.at("newProcessGroup").get<bool>();
    r.max_output_bytes = j.at("maxOutputBytes").get<std::uint64_t>();
    r.stdout_name = j.at("stdoutName").get<std::string>();
    r.stderr_name = j.at("stderrName").get<std::string>();
    r.boot_id = j.at("bootId").get<std::string>();
    if (j.contains("uid")) s.uid = j.at("uid").get<uid_t>();
    if (j.contains("gid")) s.gid = j.at("gid").get<gid_t>();
    if (j.contains("groups")) s.groups = j.at("groups").get<std::vector<gid_t>>();
    for (const auto& l : j.at("rlimits")) {
      s.rlimits.push_back(
          {l.at("resource").get<int>(), l.at("soft").get<rlim_t>(), l.at("hard").get<rlim_t>()});
    }
    return r;
  } catch (const json::exception& e) {
    return invalid(e.what());
  }
}

std::string encode_answer(const ShimAnswer& a) {
  json j = json::object();
  if (a.error) {
    json values = json::array();
    for (const auto& d : a.error->values) values.push_back({d.key, d.value});
    j["error"] = {{"status", a.error->status},
                  {"code", a.error->code},
                  {"message", a.error->message},
                  {"values", std::move(values)}};
  } else {
    j["taskPid"] = a.task_pid;
  }
  return j.dump();
}

Result<ShimAnswer> decode_answer(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return Error(500, "ShimFailed", "the task's shim gave no answer");
  try {
    ShimAnswer a;
    if (auto e = j.find("error"); e != j.end()) {
      Error error(e->at("status").get<int>(), e->at("code").get<std::string>(),
                  e->at("message").get<std::string>());
      for (const auto& d : e->at("values"))
        error.values.push_back({d.at(0).get<std::string>(), d.at(1).get<std::string>()});
      a.error = std::move(error);
      return a;
    }
    a.task_pid = j.at("taskPid").get<pid_t>();
    if (a.task_pid <= 1)
      return Error(500, "ShimFailed", "the task's shim answered pid " + std::to_string(a.task_pid));
    return a;
  } catch (const json::exception& e) {
    return Error(500, "ShimFailed", std::string("the task's shim answered nonsense: ") + e.what());
  }
}

}  // namespace openbatch::agent::shim
