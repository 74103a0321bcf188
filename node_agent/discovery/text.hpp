// Small text and file helpers shared by the discovery parsers: trimming, line splitting,
// "key: value" splitting, number parsing, and reading small files such as sysfs attributes.
// Pure functions except read_text_file, which reads the file system. Thread-safe.
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace openbatch::agent::discovery {

// `s` without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view s);

// The lines of `text`, split at '\n', each without a trailing '\r'. A final newline does not
// make an extra empty line.
std::vector<std::string_view> split_lines(std::string_view text);

// Splits `s` at every `sep`, keeping empty fields.
std::vector<std::string_view> split(std::string_view s, char sep);

// "key : value" -> {"key", "value"}, both trimmed, split at the FIRST `sep`; nullopt when
// there is no `sep`.
std::optional<std::pair<std::string_view, std::string_view>> split_key_value(std::string_view s,
                                                                             char sep = ':');

// The whole of `s` (trimmed) as a non-negative decimal integer; nullopt otherwise.
std::optional<std::uint64_t> parse_uint(std::string_view s);

// The file's bytes. Error "DiscoveryFailed" naming the path when it cannot be opened or read;
// `not_found` (when given) is set to whether that was because the file does not exist.
[[nodiscard]] Result<std::string> read_text_file(const std::filesystem::path& path,
                                                 bool* not_found = nullptr);

// The first line of `text`, trimmed, at most 200 characters: for error messages that quote a
// program's output.
std::string first_line(std::string_view text);

}  // namespace openbatch::agent::discovery
