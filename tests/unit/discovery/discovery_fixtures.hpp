// Paths of the hardware fixtures under tests/fixtures/ and small helpers shared by the
// discovery tests: reading a fixture, writing an executable stand-in script into a TempDir.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>

namespace openbatch::agent::discovery::testing {

inline std::filesystem::path fixture(const std::string& relative) {
  return std::filesystem::path(OPENBATCH_SOURCE_DIR) / "tests" / "fixtures" / relative;
}

inline std::string read_fixture(const std::string& relative) {
  std::ifstream in(fixture(relative), std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Writes a /bin/sh script at `path` and makes it executable.
inline void write_script(const std::filesystem::path& path, const std::string& body) {
  write_file(path, "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
}

}  // namespace openbatch::agent::discovery::testing
