// The toolkit the request validators are written with: a lazily rendered property Path and
// Fields, which checks one JSON object member by member and MOVES each accepted member into
// the canonical output object. Members it is never asked about are dropped (forward
// compatibility: later API versions only add properties). JSON null counts as absent.
//
// Internal to scheduler/domain. Not thread-safe: one Fields per object being validated.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace openbatch::domain::detail {

using nlohmann::json;

// Where a value sits in the request ("startTask.resourceFiles[2].filePath"). A Path refers
// to its parent, so build children from a Path that outlives them (a local or a member), and
// render with str() only when an error needs the text: the happy path never allocates.
class Path {
 public:
  Path() = default;
  Path operator/(std::string_view key) const { return Path(this, key, kNoIndex); }
  Path operator[](std::size_t index) const { return Path(this, {}, index); }
  std::string str() const;

 private:
  static constexpr std::size_t kNoIndex = std::numeric_limits<std::size_t>::max();
  Path(const Path* parent, std::string_view key, std::size_t index)
      : parent_(parent), key_(key), index_(index) {}
  void append_to(std::string& out) const;

  const Path* parent_ = nullptr;
  std::string_view key_;
  std::size_t index_ = kNoIndex;
};

Error missing(const Path& path);
// 400 InvalidPropertyValue naming `path`, the offending value (shortened) and the reason.
Error invalid(const Path& path, const json& value, std::string_view reason);

// A member present with a non-null value, or nullptr.
json* find_member(json& object, std::string_view key);
const json* find_member(const json& object, std::string_view key);

struct StringRule {
  bool required = false;
  std::size_t max_chars = 1024;  // Unicode code points
  bool allow_empty = false;
};

struct IntRule {
  bool required = false;
  int64_t min = std::numeric_limits<int32_t>::min();
  int64_t max = std::numeric_limits<int32_t>::max();
  std::optional<int64_t> fallback{};  // written when absent
};

struct DurationRule {
  bool required = false;
  int64_t min_ticks = 0;
  int64_t max_ticks = std::numeric_limits<int64_t>::max();
  std::optional<std::string_view> fallback{};  // canonical text written when absent
};

enum class Kind { Object, Array, String, Boolean, Any };

class Fields {
 public:
  // `src` must be an object (check with require_object first); `dst` receives the output.
  Fields(json& src, json& dst, const Path& path) : src_(src), dst_(dst), path_(path) {}

  json* find(std::string_view key) { return find_member(src_, key); }
  // Moves the member `key` (present in the source) into the output and returns it there. The
  // map node itself moves, so neither the key nor the value is reallocated.
  json& transfer(std::string_view key);
  bool has(std::string_view key) { return find(key) != nullptr; }
  Path at(std::string_view key) const { return path_ / key; }
  const Path& path() const { return path_; }
  json& out() { return dst_; }

  Status string(std::string_view key, StringRule rule = {});
  Status id(std::string_view key, bool required = true);
  Status integer(std::string_view key, IntRule rule = {});
  Status boolean(std::string_view key, std::optional<bool> fallback = std::nullopt);
  // Case-insensitive; writes the canonical spelling from `allowed`.
  Status enumeration(std::string_view key, std::initializer_list<std::string_view> allowed,
                     std::optional<std::string_view> fallback = std::nullopt,
                     bool required = false);
  Status duration(std::string_view key, DurationRule rule = {});
  // Accept-and-store: moves the member through unchanged once it has the right JSON kind.
  Status keep(std::string_view key, Kind kind);
  // An array of objects, each checked by `fn(json& element, json& out, const Path&)`.
  template <class Fn>
  Status objects(std::string_view key, std::size_t max_items, Fn&& fn, bool required = false);
  // A nested object checked by `fn(json& src, json& out, const Path&)`.
  template <class Fn>
  Status object(std::string_view key, Fn&& fn, bool required = false);
  // Like object(), but an absent member is checked as {} so that its defaults are written.
  template <class Fn>
  Status object_or_defaults(std::string_view key, Fn&& fn);

 private:
  json& src_;
  json& dst_;
  Path path_;
};

// The object at `value`, or 400 naming `path` when it is another kind of JSON.
Status require_object(const json& value, const Path& path);
Status require_array(const json& value, const Path& path, std::size_t max_items);

template <class Fn>
Status Fields::object(std::string_view key, Fn&& fn, bool required) {
  json* v = find(key);
  const Path p = at(key);
  if (v == nullptr) return required ? Status(missing(p)) : Status();
  if (auto st = require_object(*v, p); !st) return st;
  json out = json::object();
  if (auto st = fn(*v, out, p); !st) return st;
  transfer(key) = std::move(out);
  return {};
}

template <class Fn>
Status Fields::object_or_defaults(std::string_view key, Fn&& fn) {
  if (find(key) != nullptr) return object(key, fn);
  json empty = json::object();
  json out = json::object();
  if (auto st = fn(empty, out, at(key)); !st) return st;
  dst_[std::string(key)] = std::move(out);
  return {};
}

template <class Fn>
Status Fields::objects(std::string_view key, std::size_t max_items, Fn&& fn, bool required) {
  json* v = find(key);
  const Path p = at(key);
  if (v == nullptr) return required ? Status(missing(p)) : Status();
  if (auto st = require_array(*v, p, max_items); !st) return st;
  json out = json::array();
  out.get_ref<json::array_t&>().reserve(v->size());
  for (std::size_t i = 0; i < v->size(); ++i) {
    const Path ep = p[i];
    json& element = (*v)[i];
    if (auto st = require_object(element, ep); !st) return st;
    json item = json::object();
    if (auto st = fn(element, item, ep); !st) return st;
    out.push_back(std::move(item));
  }
  transfer(key) = std::move(out);
  return {};
}

}  // namespace openbatch::domain::detail
