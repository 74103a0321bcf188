// Text and file helpers for the discovery parsers (see text.hpp).
#include "node_agent/discovery/text.hpp"

#include "node_agent/discovery/scanner.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <system_error>

namespace openbatch::agent::discovery {

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  auto begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  auto end = s.find_last_not_of(kSpace);
  return s.substr(begin, end - begin + 1);
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> fields;
  while (true) {
    auto at = s.find(sep);
    fields.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return fields;
}

std::optional<std::pair<std::string_view, std::string_view>> split_key_value(std::string_view s,
                                                                             char sep) {
  auto at = s.find(sep);
  if (at == std::string_view::npos) return std::nullopt;
  return std::pair{trim(s.substr(0, at)), trim(s.substr(at + 1))};
}

std::optional<std::uint64_t> parse_uint(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

Result<std::string> read_text_file(const std::filesystem::path& path, bool* not_found) {
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);
  if (not_found != nullptr) *not_found = !exists && !ec;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return discovery_error("DiscoveryFailed", "cannot open " + path.string() +
                                                  (exists ? "" : ": no such file or directory"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return discovery_error("DiscoveryFailed", "cannot read " + path.string());
  return std::move(text).str();
}

std::string first_line(std::string_view text) {
  for (auto line : split_lines(text)) {
    line = trim(line);
    if (line.empty()) continue;
    return std::string(line.substr(0, 200));
  }
  return {};
}

}  // namespace openbatch::agent::discovery
