// Resource files of an attempt: checked (pure) when the attempt is planned, downloaded into
// its working directory before it starts.
//
// Supported: {"httpUrl": "http://...", "filePath": "rel/path", "fileMode": "0755"}. Not yet:
// https (no TLS client in the agent), storageContainerUrl and autoStorageContainerName; they
// fail the attempt with a clear message rather than running it without its inputs. filePath
// must stay inside wd: relative, no "..". fileMode is octal, default 0770 as in Azure.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace openbatch::agent::runner {

inline constexpr std::string_view kResourceFileDownloadFailed = "ResourceFileDownloadFailed";

struct ResourceFile {
  std::string url;                      // http://host[:port]/path?query
  std::filesystem::path relative_path;  // under wd, lexically normal
  mode_t mode = 0770;
  bool operator==(const ResourceFile&) const = default;
};

// An Error (400 kResourceFileDownloadFailed, message for the task's failureInfo) for a file
// the agent cannot fetch or a path that escapes wd.
[[nodiscard]] Result<std::vector<ResourceFile>> parse_resource_files(const nlohmann::json& files);

struct FileOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// Downloads one file to wd/relative_path (creating parent directories), applies its mode and,
// when given, its owner. Blocking: the runner calls it off the event loop.
[[nodiscard]] Status download_resource_file(const ResourceFile& file,
                                            const std::filesystem::path& working_dir,
                                            const std::optional<FileOwner>& owner,
                                            std::chrono::milliseconds timeout);

}  // namespace openbatch::agent::runner
