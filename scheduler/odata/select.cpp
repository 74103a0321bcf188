// $select parsing and projection (see select.hpp).
#include "scheduler/odata/select.hpp"

#include "common/text/ascii.hpp"

#include <algorithm>
#include <compare>

namespace openbatch::odata {
namespace {

constexpr std::string_view kParameter = "$select";

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::string_view trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const std::size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// Null when `name` is a valid property name, else the reason.
const char* name_problem(std::string_view name) {
  if (name.empty()) return "empty property name in the list";
  for (char c : name) {
    if (c == '/') return "nested properties cannot be selected";
    if (!is_name_char(c)) return "property names may contain only letters, digits and '_'";
  }
  return nullptr;
}

}  // namespace

bool Select::includes(std::string_view name) const {
  if (properties.empty()) return true;
  // properties is sorted by lowercased bytes, which is exactly icompare's order.
  auto it = std::lower_bound(
      properties.begin(), properties.end(), name,
      [](const std::string& a, std::string_view b) { return std::is_lt(text::icompare(a, b)); });
  return it != properties.end() && text::iequals(*it, name);
}

Result<Select> parse_select(std::string_view text) {
  if (text.size() > kMaxSelectLength) {
    return errors::invalid_query(
        kParameter, text,
        "the list is longer than " + std::to_string(kMaxSelectLength) + " characters");
  }
  Select select;
  std::string_view rest = text;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view name = trim(rest.substr(0, comma));
    if (const char* reason = name_problem(name)) {
      return errors::invalid_query(kParameter, text, reason);
    }
    select.properties.push_back(text::to_lower(name));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::sort(select.properties.begin(), select.properties.end());
  select.properties.erase(std::unique(select.properties.begin(), select.properties.end()),
                          select.properties.end());
  return select;
}

nlohmann::json apply_select(const nlohmann::json& entity, const Select& select) {
  if (select.empty() || !entity.is_object()) return entity;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : entity.items()) {
    if (select.includes(key)) out[key] = value;
  }
  return out;
}

}  // namespace openbatch::odata
