// Error replies and error text for the CLI (see errors.hpp).
#include "cli/errors.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <utility>

namespace openbatch::cli {
namespace {

using nlohmann::json;

// Detail keys that name something and the keys that carry its value.
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kNamedPairs{{
    {"PropertyName", "PropertyValue"},
    {"QueryParameterName", "QueryParameterValue"},
    {"HeaderName", "HeaderValue"},
}};

std::string first_line(std::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

std::string json_text(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return {};
  return j.dump();
}

bool is_pair_value_key(std::string_view key) {
  for (const auto& [name, value] : kNamedPairs) {
    if (key == value) return true;
  }
  return false;
}

// Newlines inside a value (AuthenticationErrorDetail holds a whole string-to-sign) print as
// "\n" so the error stays on one line.
std::string escape_newlines(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_details(const Error& error) {
  std::string out;
  auto append = [&out](const std::string& part) {
    if (!out.empty()) out += ", ";
    out += escape_newlines(part);
  };
  for (const auto& d : error.values) {
    if (is_pair_value_key(d.key)) continue;  // printed with its name
    bool named = false;
    for (const auto& [name_key, value_key] : kNamedPairs) {
      if (d.key != name_key) continue;
      named = true;
      const std::string value = error.detail(value_key);
      append(value.empty() ? d.key + "=" + d.value : d.value + "=" + value);
    }
    if (!named) append(d.key + "=" + d.value);
  }
  // A value without its name (unusual) is still shown.
  for (const auto& [name_key, value_key] : kNamedPairs) {
    if (error.detail(name_key).empty() && !error.detail(value_key).empty()) {
      append(std::string(value_key) + "=" + error.detail(value_key));
    }
  }
  return out;
}

}  // namespace

Error usage_error(std::string message) {
  return Error(0, std::string(kUsageError), std::move(message));
}

Error error_from_reply(int status, std::string_view body) {
  const json parsed = json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("code") && parsed["code"].is_string()) {
    Error error(status, parsed["code"].get<std::string>(), {});
    if (auto m = parsed.find("message"); m != parsed.end()) {
      error.message =
          first_line(m->is_object() ? json_text(m->value("value", json())) : json_text(*m));
    }
    if (auto v = parsed.find("values"); v != parsed.end() && v->is_array()) {
      for (const auto& d : *v) {
        if (!d.is_object()) continue;
        error.values.push_back(
            {json_text(d.value("key", json())), json_text(d.value("value", json()))});
      }
    }
    return error;
  }
  std::string message = "the server answered HTTP " + std::to_string(status);
  if (!body.empty()) message += ": " + first_line(body.substr(0, 200));
  return Error(status, "HttpError", std::move(message));
}

std::string format_error(const Error& error) { return "error: " + describe_error(error); }

std::string describe_error(const Error& error) {
  if (error.code == kUsageError) return error.message;
  std::string out;
  if (error.status != 0) out += std::to_string(error.status) + " ";
  out += error.code;
  if (!error.message.empty()) out += ": " + error.message;
  const std::string details = format_details(error);
  if (!details.empty()) out += " (" + details + ")";
  return out;
}

int exit_code_for(const Error& error) {
  return error.code == kUsageError ? kExitUsage : kExitFailure;
}

}  // namespace openbatch::cli
