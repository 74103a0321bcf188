// Input files for commands (see input_file.hpp).
#include "cli/input_file.hpp"

#include "cli/errors.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

namespace openbatch::cli {

Result<std::string> read_input(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return usage_error("cannot read " + path);
  text << in.rdbuf();
  if (in.bad()) return usage_error("cannot read " + path);
  return text.str();
}

Result<nlohmann::json> read_json_object(const std::string& path) {
  auto text = read_input(path);
  if (!text) return text.error();
  auto parsed = nlohmann::json::parse(*text, nullptr, false);
  if (parsed.is_discarded()) return usage_error(path + ": not valid JSON");
  if (!parsed.is_object()) return usage_error(path + ": expected a JSON object");
  return parsed;
}

}  // namespace openbatch::cli
