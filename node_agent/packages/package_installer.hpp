// PackageInstaller: makes one application package available on the node, once.
//
// Layout under the node root (batch-api.md section 10; Azure's own folder name adds a
// timestamp, OpenBatch uses "<applicationId>_<version>" so that a path is stable):
//   applications/<id>_<version>/          the package, read-only for tasks (safe_extract.hpp)
//   applications/.<id>_<version>.sha256    marker: the SHA-256 the folder was extracted from,
//                                          written after the folder is in place and kept outside
//                                          it, so a task cannot forge it
//   applications/.<id>_<version>.lock      flock'ed during an install
//   applications/.downloads/<id>_<version>.<sha256>.zip.part   the download, removed after
//
// install(): when the folder exists and the marker holds ref.sha256, it is done without a
// download. Otherwise the marker is removed, the package fetched, its size (when given) and
// SHA-256 checked, extracted atomically over any old folder, and the marker written. A failed
// install leaves no folder of a half-extracted package and no marker for a wrong one.
//
// Threading: install() blocks (download and extraction); call it off the event loop. Installs
// of the same package from several threads (or processes) are serialized by an exclusive
// flock on its lock file; the later ones then find it installed. Different packages install
// in parallel. The object holds only configuration and may be shared.
#pragma once

#include "common/error.hpp"
#include "common/protocol/agent_protocol.hpp"
#include "node_agent/packages/safe_extract.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace openbatch::agent::packages {

inline constexpr std::string_view kPackageInstallFailed = "PackageInstallFailed";

// Downloads `url` to `destination_file`, sending `bearer_token`. HttpFetcher is one.
using Fetcher = std::function<Status(const std::string& url, const std::string& bearer_token,
                                     const std::filesystem::path& destination_file)>;

// Where the scheduler serves a package: <scheduler_base_url>/agent/v1/packages/<sha256>, with
// scheduler_base_url "http://host:port[/prefix]" (link::SchedulerUrl::base()).
std::string package_url(std::string_view scheduler_base_url, std::string_view sha256);

class PackageInstaller {
 public:
  // Packages are fetched from package_url(scheduler_base_url, ref.sha256).
  PackageInstaller(std::filesystem::path node_root, std::string scheduler_base_url, Fetcher fetcher,
                   ExtractLimits limits = {});

  // The installed folder, absolute when node_root is. The id and version must be 1-64 of
  // [A-Za-z0-9_.#-] not starting with '.', the sha256 64 hex digits. Errors keep the failing step's
  // code (kPackageInstallFailed for a bad reference or a size/SHA-256 mismatch,
  // kPackageDownloadFailed, kPackageExtractionFailed, ...) and their messages start with "package
  // <id> <version>: ", e.g. "package GPUDriver 411.82: SHA-256 mismatch (expected 3a.., got 9f..)".
  [[nodiscard]] Result<std::filesystem::path> install(const protocol::PackageRef& ref,
                                                      const std::string& bearer_token) const;

  // applications/<id>_<version>, whether or not it is installed (no checks on the names).
  std::filesystem::path package_dir(const protocol::PackageRef& ref) const;

 private:
  std::filesystem::path applications_;
  std::string scheduler_base_url_;
  Fetcher fetcher_;
  ExtractLimits limits_;
};

}  // namespace openbatch::agent::packages
