// Services: what routes need from the rest of the scheduler, passed explicitly (no globals).
#pragma once

#include "common/clock.hpp"
#include "scheduler/api/node_files.hpp"
#include "scheduler/catalog/catalog.hpp"
#include "scheduler/store/store.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace openbatch::api {

struct AccountConfig {
  std::string name;        // account name clients sign with
  std::string key;         // decoded key bytes (HMAC key)
  std::string public_url;  // base URL written into entity `url` fields
  bool require_auth = true;
};

// Issues Azure-style opaque ETags ("0x8D..."): .NET ticks of now, strictly increasing so two
// writes in the same tick still differ. Thread-safe.
class EtagGenerator {
 public:
  explicit EtagGenerator(const Clock& clock) : clock_(clock) {}
  std::string next();

 private:
  const Clock& clock_;
  std::atomic<uint64_t> last_{0};
};

struct Services {
  store::Store& store;
  const catalog::Catalog& catalog;
  const Clock& clock;
  AccountConfig account;
  EtagGenerator etags;
  std::filesystem::path data_dir;
  std::unique_ptr<NodeFiles> node_files;
  // Largest application package accepted (streamed uploads; every other body stays < 1 MiB).
  std::uint64_t max_package_bytes = 8ull << 30;

  Services(store::Store& s, const catalog::Catalog& c, const Clock& clk, AccountConfig acct,
           std::filesystem::path dir)
      : store(s),
        catalog(c),
        clock(clk),
        account(std::move(acct)),
        etags(clk),
        data_dir(std::move(dir)),
        node_files(std::make_unique<LocalNodeFiles>(data_dir / "nodes")) {}
};

}  // namespace openbatch::api
