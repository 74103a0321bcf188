// The permission bits of a file as people write them ("0600"), for the start-up checks' messages.
#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <sys/types.h>

namespace openbatch::startup {

inline std::string octal_mode(mode_t mode) {
  std::array<char, 8> text{};
  std::snprintf(text.data(), text.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return text.data();
}

}  // namespace openbatch::startup
