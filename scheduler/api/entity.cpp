#include "scheduler/api/entity.hpp"

#include "common/http_date.hpp"
#include "common/time.hpp"

#include <algorithm>
#include <cstdio>

namespace openbatch::api {

void stamp_new(nlohmann::json& entity, std::string_view url, std::string_view etag, TimePoint now,
               std::string_view state) {
  const std::string t = format_iso8601(now);
  entity["url"] = url;
  entity["eTag"] = etag;
  entity["lastModified"] = t;
  entity["creationTime"] = t;
  entity["state"] = state;
  entity["stateTransitionTime"] = t;
}

void touch(nlohmann::json& entity, std::string_view etag, TimePoint now) {
  entity["eTag"] = etag;
  entity["lastModified"] = format_iso8601(now);
}

namespace {

// An ETag list header matches when it is "*" or names the entity's tag (quoted or not).
bool etag_matches(std::string_view header, std::string_view etag) {
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view item =
        header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"')
      item = item.substr(1, item.size() - 2);
    if (item == "*" || item == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

Error condition_failed(bool is_read) {
  if (is_read)
    return Error(304, "ConditionNotMet",
                 "The condition specified using HTTP conditional header(s) is not met.");
  return Error(412, "ConditionNotMet",
               "The condition specified using HTTP conditional header(s) is not met.");
}

}  // namespace

Status check_preconditions(const RequestContext& ctx, const nlohmann::json& entity, bool is_read) {
  const std::string etag = entity.value("eTag", std::string());
  if (auto h = ctx.header("If-Match"); h && !etag_matches(*h, etag))
    return condition_failed(is_read);
  if (auto h = ctx.header("If-None-Match"); h && etag_matches(*h, etag))
    return condition_failed(is_read);
  auto modified = parse_iso8601(entity.value("lastModified", std::string()));
  if (!modified) return {};
  // HTTP dates have one-second resolution: compare at that resolution.
  auto modified_s = std::chrono::floor<std::chrono::seconds>(*modified);
  if (auto h = ctx.header("If-Modified-Since")) {
    if (auto since = parse_http_date(*h); since && modified_s <= *since)
      return condition_failed(is_read);
  }
  if (auto h = ctx.header("If-Unmodified-Since")) {
    if (auto since = parse_http_date(*h); since && modified_s > *since)
      return condition_failed(is_read);
  }
  return {};
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace openbatch::api
