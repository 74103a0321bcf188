// Small durable-file helpers for the agent's private state directory: write a whole file so
// that a crash leaves either the old or the new content (tmp + fsync + rename + fsync of the
// directory), and append-with-fdatasync primitives for the journal. Thread-safe: no state.
#pragma once

#include "common/error.hpp"

#include <filesystem>
#include <string_view>
#include <sys/types.h>

namespace openbatch::agent::state {

// Writes `content` to `path` atomically with permission `mode` (applied with fchmod, so the
// umask does not widen or narrow it). Errors are 500 "StateWriteFailed" with the errno text.
[[nodiscard]] Status write_file_atomically(const std::filesystem::path& path,
                                           std::string_view content, mode_t mode);

// fsync of a directory, so that a rename or create inside it survives a crash.
[[nodiscard]] Status fsync_directory(const std::filesystem::path& dir);

// write(2) until every byte is written (EINTR and short writes handled).
[[nodiscard]] Status write_all(int fd, std::string_view data, const std::filesystem::path& path);

// The error the helpers return: 500 StateWriteFailed, "<what> <path>: <errno text>".
Error state_write_error(std::string_view what, const std::filesystem::path& path, int err);

}  // namespace openbatch::agent::state
