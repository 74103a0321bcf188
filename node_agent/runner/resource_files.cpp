// Resource file checks and HTTP download (see resource_files.hpp).
#include "node_agent/runner/resource_files.hpp"

#include "common/files/beneath.hpp"
#include "common/http/client.hpp"
#include "common/posix/unique_fd.hpp"

#include <boost/url/parse.hpp>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace openbatch::agent::runner {
namespace {

Error failed(std::string message) {
  return Error(400, std::string(kResourceFileDownloadFailed), std::move(message));
}

Result<std::filesystem::path> checked_path(const std::string& text) {
  if (text.empty()) return failed("a resource file has an empty filePath");
  std::filesystem::path p(text);
  if (p.is_absolute()) return failed("resource file path '" + text + "' must be relative to wd");
  for (const auto& part : p) {
    if (part == "..") return failed("resource file path '" + text + "' must not contain '..'");
  }
  p = p.lexically_normal();
  if (p.empty() || p == "." || p.filename().empty()) {
    return failed("resource file path '" + text + "' does not name a file");
  }
  return p;
}

}  // namespace

Result<std::vector<ResourceFile>> parse_resource_files(const nlohmann::json& files) {
  std::vector<ResourceFile> out;
  if (files.is_null()) return out;
  if (!files.is_array()) return failed("resourceFiles must be an array");
  for (const auto& f : files) {
    if (!f.is_object()) return failed("a resource file must be a JSON object");
    auto text = [&f](const char* key) {
      auto it = f.find(key);
      return it != f.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const std::string url = text("httpUrl");
    if (url.empty()) {
      for (const char* key : {"storageContainerUrl", "autoStorageContainerName"}) {
        if (f.contains(key)) {
          return failed(std::string("resource files from ") + key +
                        " are not supported by this node agent; use an http:// httpUrl");
        }
      }
      return failed("a resource file has no httpUrl");
    }
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->scheme() != "http" || parsed->encoded_host().empty()) {
      return failed("resource file URL '" + url +
                    "' is not supported: this node agent downloads http:// URLs only");
    }
    ResourceFile file;
    file.url = url;
    auto path = checked_path(text("filePath"));
    if (!path) return path.error();
    file.relative_path = std::move(*path);
    if (const std::string mode = text("fileMode"); !mode.empty()) {
      std::size_t used = 0;
      unsigned long value = 0;
      try {
        value = std::stoul(mode, &used, 8);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != mode.size() || value > 07777) {
        return failed("resource file fileMode '" + mode + "' is not an octal mode");
      }
      file.mode = static_cast<mode_t>(value);
    }
    out.push_back(std::move(file));
  }
  return out;
}

Status download_resource_file(const ResourceFile& file, const std::filesystem::path& working_dir,
                              const std::optional<FileOwner>& owner,
                              std::chrono::milliseconds timeout) {
  auto url = boost::urls::parse_absolute_uri(file.url);
  if (!url) return failed("resource file URL '" + file.url + "' is not valid");
  std::string base = "http://" + std::string(url->encoded_host_and_port());
  std::string target = std::string(url->encoded_path());
  if (target.empty()) target = "/";
  if (url->has_query()) target += "?" + std::string(url->encoded_query());
  http::ClientOptions options;
  options.timeout = timeout;
  options.user_agent = "openbatch-agent/0.1";
  http::HttpClient client(base, options);
  auto response = client.request("GET", target);
  if (!response) {
    return failed("downloading " + file.url + " failed: " + response.error().message);
  }
  if (response->status != 200) {
    return failed("downloading " + file.url + " failed with HTTP " +
                  std::to_string(response->status));
  }
  const std::filesystem::path dest = working_dir / file.relative_path;
  // The working directory is the task's: a task (or an earlier attempt of it) may have left
  // links there. Each directory is made and opened beneath the last one's descriptor, never
  // through a link, and the file is written only if it is a regular file of its own.
  auto top = files::open_trusted_dir(working_dir);
  if (!top) return failed("opening " + working_dir.string() + ": " + posix::errno_text(top.err));
  posix::UniqueFd dir = std::move(top.fd);
  std::filesystem::path made = working_dir;
  for (const auto& part : file.relative_path.parent_path()) {
    const std::string name = part.string();
    made /= part;
    if (::mkdirat(dir.get(), name.c_str(), 0777) != 0 && errno != EEXIST) {
      return failed("creating " + made.string() + ": " + posix::errno_text(errno));
    }
    auto next = files::open_beneath(dir.get(), name, O_RDONLY | O_DIRECTORY);
    if (!next) return failed("creating " + made.string() + ": " + posix::errno_text(next.err));
    // Directories made here belong to the task user too, so it can write there.
    if (owner && ::fchown(next.fd.get(), owner->uid, owner->gid) != 0) {
      return failed("chown " + made.string() + ": " + posix::errno_text(errno));
    }
    dir = std::move(next.fd);
  }
  auto opened = files::open_regular_beneath(dir.get(), file.relative_path.filename().string(),
                                            O_WRONLY | O_CREAT | O_TRUNC, file.mode);
  if (!opened) return failed("writing " + dest.string() + ": " + posix::errno_text(opened.err));
  posix::UniqueFd fd = std::move(opened.fd);
  std::string_view data = response->body;
  while (!data.empty()) {
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed("writing " + dest.string() + ": " + posix::errno_text(errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fchmod(fd.get(), file.mode) != 0 ||
      (owner && ::fchown(fd.get(), owner->uid, owner->gid) != 0)) {
    return failed("setting mode or owner of " + dest.string() + ": " + posix::errno_text(errno));
  }
  return {};
}

}  // namespace openbatch::agent::runner
