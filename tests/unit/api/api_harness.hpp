// ApiHarness: the real router over a real SQLite store in a TempDir, driven synchronously.
// Requests go through Router::handle exactly as the HTTP session hands them over, so these
// tests cover routing, validation, store writes and the wire shape without sockets.
#pragma once

#include "common/auth/shared_key.hpp"
#include "scheduler/api/router.hpp"
#include "scheduler/api/services.hpp"
#include "scheduler/catalog/catalog.hpp"
#include "scheduler/lifecycle/sweeper.hpp"
#include "scheduler/store/store.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace openbatch::testing {

inline constexpr const char* kApiVersion = "api-version=2022-10-01.16.0";

struct Reply {
  int status = 0;
  std::string body;
  api::HttpResponse raw;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  std::string code() const {
    auto j = json();
    return j.is_object() ? j.value("code", "") : "";
  }
  std::string header(const char* name) const {
    auto it = raw.find(name);
    return it == raw.end() ? "" : std::string(it->value());
  }
};

class ApiHarness {
 public:
  explicit ApiHarness(bool require_auth = false) {
    auto loaded = catalog::Catalog::load(std::filesystem::path(OPENBATCH_SOURCE_DIR) / "images");
    catalog_ = std::move(*loaded);
    store_ = std::move(*store::open_sqlite_store({(dir_.path() / "test.db").string(), false}));
    api::AccountConfig account{"acct", std::string("0123456789abcdef0123456789abcdef"),
                               "http://batch.test", require_auth};
    services_.emplace(*store_, *catalog_, clock_, account, dir_.path());
    router_.emplace(*services_);
  }
  ~ApiHarness() { store_->close(); }

  Reply call(const std::string& method, const std::string& target, const std::string& body = {},
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    api::HttpRequest req{boost::beast::http::string_to_verb(method), target, 11};
    req.set(boost::beast::http::field::host, "batch.test");
    if (!body.empty())
      req.set(boost::beast::http::field::content_type,
              "application/json; odata=minimalmetadata; charset=utf-8");
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    boost::asio::io_context ioc;
    auto fut = boost::asio::co_spawn(ioc, router_->handle(std::move(req)), boost::asio::use_future);
    // The store's writer completes on its own thread and posts back: run until the reply exists.
    while (fut.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
      ioc.run_for(std::chrono::milliseconds(5));
      ioc.restart();
    }
    Reply r;
    r.raw = fut.get();
    r.status = static_cast<int>(r.raw.result_int());
    r.body = r.raw.body();
    return r;
  }
  Reply call(const std::string& method, const std::string& target, const nlohmann::json& body) {
    return call(method, target, body.dump());
  }

  void sweep() {
    lifecycle::Sweeper sweeper(*store_, clock_, [this] { return services_->etags.next(); });
    boost::asio::io_context ioc;
    auto fut = boost::asio::co_spawn(ioc, sweeper.sweep_once(), boost::asio::use_future);
    while (fut.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
      ioc.run_for(std::chrono::milliseconds(5));
      ioc.restart();
    }
    fut.get();
  }

  FakeClock& clock() { return clock_; }
  store::Store& store() { return *store_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  FakeClock clock_;
  std::optional<catalog::Catalog> catalog_;
  std::unique_ptr<store::Store> store_;
  std::optional<api::Services> services_;
  std::optional<api::Router> router_;
};

inline std::string with_version(const std::string& path) {
  return path + (path.find('?') == std::string::npos ? "?" : "&") + kApiVersion;
}

inline nlohmann::json gpu_pool(const std::string& id) {
  return {{"id", id},
          {"vmSize", "STANDARD_NC6"},
          {"virtualMachineConfiguration",
           {{"imageReference",
             {{"publisher", "canonical"},
              {"offer", "0001-com-ubuntu-server-focal"},
              {"sku", "20_04-lts"}}},
            {"nodeAgentSKUId", "batch.node.ubuntu 20.04"}}},
          {"targetDedicatedNodes", 2},
          {"enableInterNodeCommunication", true},
          {"maxTasksPerNode", 1},
          {"startTask",
           {{"commandLine", "/bin/sh -c \"nvidia-smi\""},
            {"userIdentity", {{"autoUser", {{"scope", "Pool"}, {"elevationLevel", "Admin"}}}}},
            {"waitForSuccess", true}}}};
}

}  // namespace openbatch::testing
