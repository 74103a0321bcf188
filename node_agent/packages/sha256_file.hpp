// sha256_file: the SHA-256 of a file's content, read in chunks (packages may be gigabytes),
// as lowercase hex, the form the scheduler publishes for a package. Blocking; thread-safe.
#pragma once

#include "common/error.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace openbatch::agent::packages {

inline constexpr std::string_view kFileReadFailed = "FileReadFailed";

// 64 lowercase hex characters, or a 500 kFileReadFailed Error naming the file.
[[nodiscard]] Result<std::string> sha256_file(const std::filesystem::path& file);

}  // namespace openbatch::agent::packages
