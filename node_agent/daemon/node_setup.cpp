// NodeSetup: packages, start task, driver check (see node_setup.hpp).
#include "node_agent/daemon/node_setup.hpp"

#include "common/protocol/environment_settings.hpp"
#include "common/time.hpp"
#include "node_agent/state/atomic_file.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

namespace openbatch::agent::daemon {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

std::string now_text() { return format_iso8601(std::chrono::system_clock::now()); }

json node_error(std::string code, std::string message, json details = json::array()) {
  json e = {{"code", std::move(code)}, {"message", std::move(message)}};
  if (!details.empty()) e["errorDetails"] = std::move(details);
  return e;
}

}  // namespace

std::optional<json> driver_mismatch(const std::optional<std::string>& pinned,
                                    const json& inventory) {
  if (!pinned || pinned->empty()) return std::nullopt;
  std::string found;
  if (auto it = inventory.find("gpuDriverVersion"); it != inventory.end() && it->is_string()) {
    found = it->get<std::string>();
  }
  if (found == *pinned) return std::nullopt;
  const std::string message = found.empty()
                                  ? "no NVIDIA driver found, pool requires " + *pinned
                                  : "driver " + found + " found, pool requires " + *pinned;
  return node_error("GpuDriverVersionMismatch", message,
                    json::array({{{"name", "found"}, {"value", found}},
                                 {{"name", "required"}, {"value", *pinned}}}));
}

NodeSetup::NodeSetup(asio::io_context& io, runner::AttemptRunner& runner,
                     const packages::PackageInstaller& installer, std::string node_token,
                     std::filesystem::path state_file, std::string boot_id, NodeSetupHooks hooks)
    : io_(io),
      runner_(runner),
      installer_(installer),
      node_token_(std::move(node_token)),
      state_file_(std::move(state_file)),
      boot_id_(std::move(boot_id)),
      hooks_(std::move(hooks)) {}

NodeSetup::~NodeSetup() {
  *alive_ = false;
  worker_.join();
}

void NodeSetup::on_welcome(const std::optional<protocol::NodeSetup>& setup) {
  protocol::NodeSetup wanted = setup.value_or(protocol::NodeSetup{});
  if (running_ && wanted.generation <= setup_.generation) {
    hooks_.send_status(status_);  // under way: say where it stands
    return;
  }
  if (!running_ && status_.generation >= wanted.generation && status_.generation > 0) {
    hooks_.send_status(status_);  // done in this process already
    return;
  }
  if (!running_) {
    // Done before this process started, in this boot of the node?
    std::ifstream in(state_file_);
    std::stringstream text;
    text << in.rdbuf();
    json saved = json::parse(text.str(), nullptr, false);
    if (saved.is_object() && saved.value("complete", false) &&
        saved.value("bootId", "") == boot_id_ &&
        saved.value("generation", std::uint64_t{0}) >= wanted.generation) {
      try {
        setup_ = saved.at("setup").get<protocol::NodeSetup>();
        status_ = saved.at("status").get<protocol::NodeStatus>();
        use_pool_packages();
        spdlog::info("setup: generation {} already done in this boot ({})", status_.generation,
                     protocol::to_string(status_.state));
        hooks_.send_status(status_);
        return;
      } catch (const std::exception& e) {
        spdlog::warn("setup: ignoring {}: {}", state_file_.string(), e.what());
      }
    }
  }
  begin(std::move(wanted));
}

void NodeSetup::begin(protocol::NodeSetup setup) {
  setup_ = std::move(setup);
  running_ = true;
  start_task_failed_ = false;
  try_ = 0;
  status_ = protocol::NodeStatus{setup_.generation, protocol::SetupState::Starting, nullptr,
                                 json::array(), std::nullopt};
  spdlog::info("setup: generation {}: {} packages, {}start task", setup_.generation,
               setup_.packages.size(), setup_.start_task.is_object() ? "" : "no ");
  persist(false);
  hooks_.send_status(status_);
  if (setup_.packages.empty()) return packages_installed({});
  asio::post(worker_, [this, alive = std::weak_ptr<bool>(alive_), packages = setup_.packages] {
    Status status;
    for (const auto& p : packages) {
      auto installed = installer_.install(p, node_token_);
      if (!installed) {
        status = installed.error();
        break;
      }
      spdlog::info("setup: package {} {} installed in {}", p.application_id, p.version,
                   installed->string());
    }
    auto token = alive.lock();
    if (!token || !*token) return;
    asio::post(io_, [this, alive, status] {
      auto t = alive.lock();
      if (t && *t) packages_installed(status);
    });
  });
}

void NodeSetup::packages_installed(const Status& status) {
  if (!status) {
    spdlog::error("setup: {}", status.error().message);
    return finish(
        protocol::SetupState::Unusable,
        json::array({node_error("ApplicationPackageInstallationFailed", status.error().message)}));
  }
  use_pool_packages();
  if (setup_.start_task.is_object() && !setup_.start_task.value("commandLine", "").empty()) {
    return start_attempt();
  }
  check_driver();
}

void NodeSetup::use_pool_packages() {
  runner_.facts().pool_packages =
      runner::app_packages_of(runner_.facts().node_root, setup_.packages);
}

void NodeSetup::start_attempt() {
  const json& st = setup_.start_task;
  const bool wait = st.value("waitForSuccess", true);
  protocol::Assignment a;
  a.attempt_id = "starttask:" + std::to_string(setup_.generation) + ":" + std::to_string(try_);
  a.task_id = "starttask";
  a.command_line = st.value("commandLine", "");
  a.environment = protocol::environment_settings_of(st.value("environmentSettings", json::array()));
  if (auto id = st.find("userIdentity"); id != st.end() && id->is_object()) a.user_identity = *id;
  if (auto files = st.find("resourceFiles"); files != st.end() && files->is_array())
    a.resource_files = *files;
  status_.state = wait ? protocol::SetupState::WaitingForStartTask : protocol::SetupState::Ready;
  json info = {{"state", "running"}, {"startTime", now_text()}, {"retryCount", try_}};
  if (try_ > 0) info["lastRetryTime"] = info["startTime"];
  status_.start_task_info = std::move(info);
  publish();
  const std::string id = a.attempt_id;
  runner_.accept(std::move(a), runner::AttemptKind::StartTask);
  runner_.start(id);
}

void NodeSetup::on_report(const protocol::Report& report) {
  const std::string current =
      "starttask:" + std::to_string(setup_.generation) + ":" + std::to_string(try_);
  if (!running_ || report.attempt_id != current) return;
  json& info = status_.start_task_info;
  if (report.start_time) info["startTime"] = *report.start_time;
  if (report.state != protocol::AttemptState::Completed) return;
  info["state"] = "completed";
  protocol::put_completion(info, report);
  const bool success = report.result == protocol::TaskResult::Success;
  if (!success) {
    const std::int64_t max = setup_.start_task.value("maxTaskRetryCount", std::int64_t{0});
    // Only a nonzero exit is retried: a download or launch error would fail again the same way.
    const bool exit_failure = report.failure_info && report.failure_info->code == "FailureExitCode";
    if (exit_failure && (max == -1 || try_ < max)) {
      spdlog::info("setup: start task exited {}, retry {} of {}", report.exit_code.value_or(-1),
                   try_ + 1, max);
      try_++;
      info["state"] = "running";  // Azure: running while attempts remain
      return start_attempt();
    }
    spdlog::warn("setup: start task failed: {}",
                 report.failure_info ? report.failure_info->message
                                     : "exit " + std::to_string(report.exit_code.value_or(-1)));
    start_task_failed_ = true;
    if (setup_.start_task.value("waitForSuccess", true)) {
      return finish(protocol::SetupState::StartTaskFailed, json::array());
    }
  }
  check_driver();
}

void NodeSetup::check_driver() {
  publish();
  asio::post(worker_, [this, alive = std::weak_ptr<bool>(alive_)] {
    json inventory = hooks_.rediscover ? hooks_.rediscover() : json::object();
    auto token = alive.lock();
    if (!token || !*token) return;
    asio::post(io_, [this, alive, inventory = std::move(inventory)]() mutable {
      auto t = alive.lock();
      if (!t || !*t) return;
      if (hooks_.inventory_found && !inventory.empty()) hooks_.inventory_found(inventory);
      if (auto mismatch = driver_mismatch(setup_.gpu_driver_version, inventory)) {
        spdlog::error("setup: {}", (*mismatch)["message"].get<std::string>());
        return finish(protocol::SetupState::Unusable, json::array({std::move(*mismatch)}));
      }
      finish(protocol::SetupState::Ready, json::array());
    });
  });
}

void NodeSetup::finish(protocol::SetupState state, json errors) {
  running_ = false;
  status_.state = state;
  status_.errors = std::move(errors);
  spdlog::info("setup: generation {} done: {}", setup_.generation, protocol::to_string(state));
  persist(true);
  hooks_.send_status(status_);
}

void NodeSetup::publish() {
  persist(false);
  hooks_.send_status(status_);
}

void NodeSetup::persist(bool complete) {
  if (state_file_.empty()) return;  // kept in memory only (tests)
  const json saved = {{"bootId", boot_id_},
                      {"generation", setup_.generation},
                      {"complete", complete},
                      {"setup", setup_},
                      {"status", status_}};
  if (auto st = state::write_file_atomically(state_file_, saved.dump(), 0600); !st) {
    spdlog::warn("setup: cannot save {}: {}", state_file_.string(), st.error().message);
  }
}

}  // namespace openbatch::agent::daemon
