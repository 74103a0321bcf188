// Path rendering, the member checks of Fields, and the enum/id/length helpers of values.hpp.
#include "scheduler/domain/fields.hpp"

#include "common/text/ascii.hpp"
#include "scheduler/domain/duration.hpp"
#include "scheduler/domain/values.hpp"

namespace openbatch::domain {

std::optional<std::string_view> match_enum(std::string_view value,
                                           std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (text::iequals(a, value)) return a;
  }
  return std::nullopt;
}

std::optional<std::string> canonical_enum(std::string_view value,
                                          std::initializer_list<std::string_view> allowed) {
  if (auto m = match_enum(value, allowed)) return std::string(*m);
  return std::nullopt;
}

std::size_t utf8_length(std::string_view text) noexcept {
  std::size_t n = 0;
  for (char c : text) {
    // Count every byte except UTF-8 continuation bytes (10xxxxxx).
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

namespace detail {
namespace {

constexpr std::size_t kMaxEchoedValue = 256;

std::string render_value(const json& value) {
  std::string text = value.is_string() ? value.get<std::string>()
                                       : value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxEchoedValue) {
    text.resize(kMaxEchoedValue);
    text += "...";
  }
  return text;
}

std::string allowed_list(std::initializer_list<std::string_view> allowed) {
  std::string out = "must be one of: ";
  bool first = true;
  for (auto a : allowed) {
    if (!first) out += ", ";
    out += a;
    first = false;
  }
  return out;
}

}  // namespace

void Path::append_to(std::string& out) const {
  if (parent_ != nullptr) parent_->append_to(out);
  if (index_ != kNoIndex) {
    out += '[';
    out += std::to_string(index_);
    out += ']';
  } else if (!key_.empty()) {
    if (!out.empty()) out += '.';
    out += key_;
  }
}

std::string Path::str() const {
  std::string out;
  append_to(out);
  return out;
}

Error missing(const Path& path) { return errors::missing_property(path.str()); }

Error invalid(const Path& path, const json& value, std::string_view reason) {
  return errors::invalid_property(path.str(), render_value(value), reason);
}

json* find_member(json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

const json* find_member(const json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Status require_object(const json& value, const Path& path) {
  if (!value.is_object()) return invalid(path, value, "must be a JSON object");
  return {};
}

Status require_array(const json& value, const Path& path, std::size_t max_items) {
  if (!value.is_array()) return invalid(path, value, "must be a JSON array");
  if (value.size() > max_items) {
    return invalid(path, json(value.size()),
                   "must not have more than " + std::to_string(max_items) + " items");
  }
  return {};
}

json& Fields::transfer(std::string_view key) {
  auto& from = src_.get_ref<json::object_t&>();
  auto& to = dst_.get_ref<json::object_t&>();
  auto result = to.insert(from.extract(from.find(key)));
  if (!result.inserted) result.position->second = std::move(result.node.mapped());
  return result.position->second;
}

Status Fields::string(std::string_view key, StringRule rule) {
  json* v = find(key);
  if (v == nullptr) return rule.required ? Status(missing(at(key))) : Status();
  if (!v->is_string()) return invalid(at(key), *v, "must be a string");
  const auto& text = v->get_ref<const std::string&>();
  if (text.empty() && !rule.allow_empty) return invalid(at(key), *v, "must not be empty");
  // Byte length bounds the code point count, so most strings skip the count.
  if (text.size() > rule.max_chars && utf8_length(text) > rule.max_chars) {
    return invalid(at(key), *v,
                   "must not be longer than " + std::to_string(rule.max_chars) + " characters");
  }
  transfer(key);
  return {};
}

Status Fields::id(std::string_view key, bool required) {
  json* v = find(key);
  if (v == nullptr) return required ? Status(missing(at(key))) : Status();
  if (!v->is_string() || !is_valid_id(v->get_ref<const std::string&>())) {
    return invalid(at(key), *v,
                   "must be 1 to 64 characters from letters, digits, hyphens and underscores");
  }
  transfer(key);
  return {};
}

Status Fields::integer(std::string_view key, IntRule rule) {
  json* v = find(key);
  if (v == nullptr) {
    if (rule.required) return missing(at(key));
    if (rule.fallback) dst_[std::string(key)] = *rule.fallback;
    return {};
  }
  if (!v->is_number_integer()) return invalid(at(key), *v, "must be an integer");
  const bool too_big =
      v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(rule.max);
  const int64_t n = too_big ? rule.max : v->get<int64_t>();
  if (too_big || n < rule.min || n > rule.max) {
    return invalid(
        at(key), *v,
        "must be between " + std::to_string(rule.min) + " and " + std::to_string(rule.max));
  }
  transfer(key) = n;
  return {};
}

Status Fields::boolean(std::string_view key, std::optional<bool> fallback) {
  json* v = find(key);
  if (v == nullptr) {
    if (fallback) dst_[std::string(key)] = *fallback;
    return {};
  }
  if (!v->is_boolean()) return invalid(at(key), *v, "must be true or false");
  transfer(key);
  return {};
}

Status Fields::enumeration(std::string_view key, std::initializer_list<std::string_view> allowed,
                           std::optional<std::string_view> fallback, bool required) {
  json* v = find(key);
  if (v == nullptr) {
    if (required) return missing(at(key));
    if (fallback) dst_[std::string(key)] = *fallback;
    return {};
  }
  std::optional<std::string_view> canonical;
  if (v->is_string()) canonical = match_enum(v->get_ref<const std::string&>(), allowed);
  if (!canonical) return invalid(at(key), *v, allowed_list(allowed));
  auto& text = transfer(key).get_ref<std::string&>();
  if (text != *canonical) text.assign(*canonical);
  return {};
}

Status Fields::duration(std::string_view key, DurationRule rule) {
  json* v = find(key);
  if (v == nullptr) {
    if (rule.required) return missing(at(key));
    if (rule.fallback) dst_[std::string(key)] = *rule.fallback;
    return {};
  }
  std::optional<int64_t> ticks;
  if (v->is_string()) ticks = parse_duration(v->get_ref<const std::string&>());
  if (!ticks) {
    return invalid(at(key), *v, "must be an ISO 8601 duration such as PT15M, PT1H30M or P7D");
  }
  if (*ticks < rule.min_ticks) {
    return invalid(at(key), *v, "must be at least " + format_duration(rule.min_ticks));
  }
  if (*ticks > rule.max_ticks) {
    return invalid(at(key), *v, "must be at most " + format_duration(rule.max_ticks));
  }
  std::string canonical = format_duration(*ticks);
  json& slot = transfer(key);
  if (slot.get_ref<const std::string&>() != canonical) slot = std::move(canonical);
  return {};
}

Status Fields::keep(std::string_view key, Kind kind) {
  json* v = find(key);
  if (v == nullptr) return {};
  const bool ok = kind == Kind::Any || (kind == Kind::Object && v->is_object()) ||
                  (kind == Kind::Array && v->is_array()) ||
                  (kind == Kind::String && v->is_string()) ||
                  (kind == Kind::Boolean && v->is_boolean());
  if (!ok) {
    constexpr std::string_view kNames[] = {"must be a JSON object", "must be a JSON array",
                                           "must be a string", "must be true or false", ""};
    return invalid(at(key), *v, kNames[static_cast<int>(kind)]);
  }
  transfer(key);
  return {};
}

}  // namespace detail
}  // namespace openbatch::domain
