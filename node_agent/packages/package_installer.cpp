// PackageInstaller: lock, check the marker, fetch, verify, extract, mark (see
// package_installer.hpp).
#include "node_agent/packages/package_installer.hpp"

#include "common/posix/unique_fd.hpp"
#include "node_agent/packages/sha256_file.hpp"
#include "node_agent/state/atomic_file.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sys/file.h>
#include <sys/stat.h>
#include <utility>

namespace openbatch::agent::packages {
namespace {

namespace fs = std::filesystem;

Error install_error(std::string message) {
  return Error(400, std::string(kPackageInstallFailed), std::move(message));
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '#';
  });
}

// The lowercase form of a 64-character hex digest, or "" when `text` is not one.
std::string normalized_sha256(std::string_view text) {
  if (text.size() != 64) return {};
  std::string out;
  for (char c : text) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
    out += c;
  }
  return out;
}

Status check_ref(const protocol::PackageRef& ref) {
  if (!valid_name(ref.application_id)) {
    return install_error("the application id is not 1-64 of [A-Za-z0-9_.#-]");
  }
  if (!valid_name(ref.version)) return install_error("the version is not 1-64 of [A-Za-z0-9_.#-]");
  if (normalized_sha256(ref.sha256).empty()) {
    return install_error("'" + ref.sha256 + "' is not a SHA-256 in hex");
  }
  return {};
}

// An exclusive flock held until destruction (released with the descriptor).
Result<posix::UniqueFd> lock_file(const fs::path& path) {
  posix::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    return install_error("opening " + path.string() + ": " + posix::errno_text(errno));
  }
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) {
      return install_error("locking " + path.string() + ": " + posix::errno_text(errno));
    }
  }
  return fd;
}

// True when `dir` is a real folder (not a link) and `marker` holds `sha256`.
bool installed(const fs::path& dir, const fs::path& marker, const std::string& sha256) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  std::ifstream in(marker);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!content.empty() && (content.back() == '\n' || content.back() == ' ')) content.pop_back();
  return content == sha256;
}

// Removes the downloaded archive at scope exit, whatever happened.
class DownloadFile {
 public:
  explicit DownloadFile(fs::path path) : path_(std::move(path)) { remove(); }
  ~DownloadFile() { remove(); }
  DownloadFile(const DownloadFile&) = delete;
  DownloadFile& operator=(const DownloadFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  void remove() {
    std::error_code ignored;
    fs::remove(path_, ignored);
  }
  fs::path path_;
};

}  // namespace

std::string package_url(std::string_view scheduler_base_url, std::string_view sha256) {
  std::string url(scheduler_base_url);
  while (url.ends_with('/')) url.pop_back();
  url += "/agent/v1/packages/";
  url += sha256;
  return url;
}

PackageInstaller::PackageInstaller(fs::path node_root, std::string scheduler_base_url,
                                   Fetcher fetcher, ExtractLimits limits)
    : applications_(std::move(node_root) / "applications"),
      scheduler_base_url_(std::move(scheduler_base_url)),
      fetcher_(std::move(fetcher)),
      limits_(limits) {}

fs::path PackageInstaller::package_dir(const protocol::PackageRef& ref) const {
  return applications_ / (ref.application_id + "_" + ref.version);
}

Result<fs::path> PackageInstaller::install(const protocol::PackageRef& ref,
                                           const std::string& bearer_token) const {
  const std::string label = "package " + ref.application_id + " " + ref.version + ": ";
  const auto labelled = [&label](Error e) {
    e.message = label + e.message;
    return e;
  };
  if (auto st = check_ref(ref); !st) return labelled(st.error());
  const std::string sha256 = normalized_sha256(ref.sha256);
  const std::string name = ref.application_id + "_" + ref.version;
  const fs::path downloads = applications_ / ".downloads";
  std::error_code ec;
  fs::create_directories(downloads, ec);
  if (ec) return labelled(install_error("creating " + downloads.string() + ": " + ec.message()));

  auto lock = lock_file(applications_ / ("." + name + ".lock"));
  if (!lock) return labelled(lock.error());
  const fs::path dir = package_dir(ref);
  const fs::path marker = applications_ / ("." + name + ".sha256");
  if (installed(dir, marker, sha256)) return dir;

  // From here the folder may be replaced: a crash must not leave a marker vouching for it.
  if (::unlink(marker.c_str()) != 0 && errno != ENOENT) {
    return labelled(install_error("removing " + marker.string() + ": " + posix::errno_text(errno)));
  }
  const DownloadFile download(downloads / (name + "." + sha256 + ".zip.part"));
  if (auto st = fetcher_(package_url(scheduler_base_url_, sha256), bearer_token, download.path());
      !st) {
    return labelled(st.error());
  }
  const std::uint64_t size = fs::file_size(download.path(), ec);
  if (ec) return labelled(install_error("reading the download: " + ec.message()));
  if (ref.size != 0 && size != ref.size) {
    return labelled(install_error("size mismatch (expected " + std::to_string(ref.size) +
                                  " bytes, got " + std::to_string(size) + ")"));
  }
  auto actual = sha256_file(download.path());
  if (!actual) return labelled(actual.error());
  if (*actual != sha256) {
    return labelled(
        install_error("SHA-256 mismatch (expected " + sha256 + ", got " + *actual + ")"));
  }
  if (auto stats = extract_archive(download.path(), dir, limits_); !stats) {
    return labelled(stats.error());
  }
  if (auto st = state::write_file_atomically(marker, sha256 + "\n", 0644); !st) {
    return labelled(st.error());
  }
  return dir;
}

}  // namespace openbatch::agent::packages
