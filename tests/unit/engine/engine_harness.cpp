#include "tests/unit/engine/engine_harness.hpp"

#include "scheduler/lifecycle/sweeper.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <future>

namespace openbatch::testing {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr const char* kApiVersion = "api-version=2022-10-01.16.0";

std::string with_version(const std::string& path) {
  return path + (path.find('?') == std::string::npos ? "?" : "&") + kApiVersion;
}

}  // namespace

nodes::EngineConfig EngineHarness::default_config() {
  nodes::EngineConfig config;
  config.account_name = "acct";
  config.account_url = "http://batch.test";
  config.default_provisioner = "static";
  config.heartbeat_interval_seconds = 10;
  return config;
}

EngineHarness::EngineHarness(nodes::EngineConfig config) : config_(std::move(config)) {
  auto loaded = catalog::Catalog::load(std::filesystem::path(OPENBATCH_SOURCE_DIR) / "images");
  catalog_ = std::move(*loaded);
  open();
}

EngineHarness::~EngineHarness() { close(); }

void EngineHarness::open() {
  ioc_ = std::make_unique<asio::io_context>();
  // NORMAL: the tests never lose power, and a full fsync per group would only slow them.
  auto opened = store::open_sqlite_store({(dir_.path() / "engine.db").string(), false});
  if (!opened) throw std::runtime_error("store: " + opened.error().message);
  store_ = std::move(*opened);
  api::AccountConfig account{"acct", std::string("0123456789abcdef0123456789abcdef"),
                             config_.account_url, false};
  services_ = std::make_unique<api::Services>(*store_, *catalog_, clock_, account, dir_.path());
  router_ = std::make_unique<api::Router>(*services_);
  engine_ = std::make_unique<nodes::Engine>(
      *ioc_, *store_, clock_, config_, [this] { return services_->etags.next(); }, nullptr);
  engine_->start();
}

void EngineHarness::close() {
  // The order matters: the store finishes its queued writes (their completions post into the
  // io_context, which never runs them), the engine lets go of its links, and the io_context
  // is destroyed last, with the handlers still queued in it.
  store_->close();
  engine_->stop(false);
  engine_.reset();
  router_.reset();
  services_.reset();
  store_.reset();
  ioc_.reset();
}

void EngineHarness::restart() {
  close();
  open();
}

bool EngineHarness::run_until(const std::function<bool()>& done,
                              std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ioc_->restart();
    ioc_->run_for(std::chrono::milliseconds(2));
  }
}

void EngineHarness::run_for(std::chrono::milliseconds duration) {
  ioc_->restart();
  ioc_->run_for(duration);
}

ApiReply EngineHarness::call(const std::string& method, const std::string& path, const json& body) {
  api::HttpRequest req{boost::beast::http::string_to_verb(method), with_version(path), 11};
  req.set(boost::beast::http::field::host, "batch.test");
  if (!body.is_null()) {
    req.set(boost::beast::http::field::content_type,
            "application/json; odata=minimalmetadata; charset=utf-8");
    req.body() = body.dump();
  }
  req.prepare_payload();
  auto reply = asio::co_spawn(*ioc_, router_->handle(std::move(req)), asio::use_future);
  // The store's writer completes on its own thread and posts back: run until the reply exists.
  const bool answered = run_until(
      [&] { return reply.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready; },
      std::chrono::seconds(10));
  if (!answered) throw std::runtime_error(method + " " + path + ": no reply");
  api::HttpResponse response = reply.get();
  ApiReply out;
  out.status = static_cast<int>(response.result_int());
  out.body = json::parse(response.body(), nullptr, false);
  if (out.body.is_discarded()) out.body = nullptr;
  return out;
}

std::string EngineHarness::add_pool(const std::string& id, int nodes, int slots,
                                    const json& extra) {
  json pool = {
      {"id", id},
      {"vmSize", "STANDARD_D2S_V3"},
      {"virtualMachineConfiguration",
       {{"imageReference",
         {{"publisher", "canonical"},
          {"offer", "0001-com-ubuntu-server-jammy"},
          {"sku", "22_04-lts"},
          {"version", "latest"}}},
        {"nodeAgentSKUId", "batch.node.ubuntu 22.04"}}},
      {"targetDedicatedNodes", nodes},
      {"taskSlotsPerNode", slots},
      {"metadata", json::array({{{"name", "openbatch.provisioner"}, {"value", "static"}}})}};
  pool.update(extra);
  auto added = call("POST", "/pools", pool);
  EXPECT_EQ(added.status, 201) << added.body.dump();
  auto token = call("POST", "/pools/" + id + "/jointoken");
  EXPECT_EQ(token.status, 200) << token.body.dump();
  return token.body.is_object() ? token.body.value("joinToken", "") : "";
}

void EngineHarness::add_job(const std::string& id, const std::string& pool_id, const json& extra) {
  json job = {{"id", id}, {"poolInfo", {{"poolId", pool_id}}}};
  job.update(extra);
  auto added = call("POST", "/jobs", job);
  EXPECT_EQ(added.status, 201) << added.body.dump();
}

void EngineHarness::add_task(const std::string& job_id, const std::string& task_id,
                             const json& extra) {
  json task = {{"id", task_id}, {"commandLine", "/bin/true"}};
  task.update(extra);
  auto added = call("POST", "/jobs/" + job_id + "/tasks", task);
  EXPECT_EQ(added.status, 201) << added.body.dump();
}

void EngineHarness::sweep() {
  lifecycle::Sweeper sweeper(*store_, clock_, [this] { return services_->etags.next(); });
  auto swept = asio::co_spawn(*ioc_, sweeper.sweep_once(), asio::use_future);
  const bool done = run_until(
      [&] { return swept.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready; });
  if (!done) throw std::runtime_error("sweep did not finish");
  swept.get();
}

namespace {

std::optional<json> read_body(store::Store& store, store::Table table, const std::string& parent,
                              const std::string& id) {
  auto reader = store.reader();
  auto record = reader->get(table, parent, id);
  if (!record) return std::nullopt;
  return json::parse(record->body);
}

}  // namespace

std::optional<json> EngineHarness::task(const std::string& job_id, const std::string& task_id) {
  return read_body(*store_, store::Table::Tasks, job_id, task_id);
}

std::optional<json> EngineHarness::node(const std::string& pool_id, const std::string& node_id) {
  return read_body(*store_, store::Table::Nodes, pool_id, node_id);
}

std::optional<json> EngineHarness::job(const std::string& job_id) {
  return read_body(*store_, store::Table::Jobs, "", job_id);
}

std::string EngineHarness::task_state(const std::string& job_id, const std::string& task_id) {
  auto t = task(job_id, task_id);
  return t ? t->value("state", "") : "(absent)";
}

std::string EngineHarness::node_state(const std::string& pool_id, const std::string& node_id) {
  auto n = node(pool_id, node_id);
  return n ? n->value("state", "") : "(absent)";
}

bool EngineHarness::wait_task_state(const std::string& job_id, const std::string& task_id,
                                    const std::string& state, std::chrono::milliseconds timeout) {
  return run_until([&] { return task_state(job_id, task_id) == state; }, timeout);
}

bool EngineHarness::wait_node_state(const std::string& pool_id, const std::string& node_id,
                                    const std::string& state, std::chrono::milliseconds timeout) {
  return run_until([&] { return node_state(pool_id, node_id) == state; }, timeout);
}

}  // namespace openbatch::testing
