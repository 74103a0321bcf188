// REST calls with Azure error handling and paging (see api.hpp).
#include "cli/api.hpp"

#include "cli/errors.hpp"
#include "common/encoding.hpp"

namespace openbatch::cli {

using nlohmann::json;

Api::Api(const Connection& connection)
    : client_(connection.url, connection.account, connection.key) {}

Result<http::HttpResponse> Api::send(std::string_view method, std::string_view target,
                                     std::string body, http::HeaderList headers) {
  return client_.request(method, target, std::move(body), std::move(headers));
}

Result<http::HttpResponse> Api::send_file(std::string_view method, std::string_view target,
                                          const std::string& file, http::HeaderList headers) {
  return client_.request_file(method, target, file, std::move(headers));
}

Result<http::HttpResponse> Api::call(std::string_view method, std::string_view target, int expected,
                                     std::string body, http::HeaderList headers) {
  auto res = send(method, target, std::move(body), std::move(headers));
  if (!res) return res.error();
  if (res->status != expected) return error_from_reply(res->status, res->body);
  return res;
}

Result<json> Api::get_json(std::string_view target) {
  auto res = call("GET", target, 200);
  if (!res) return res.error();
  json parsed = json::parse(res->body, nullptr, false);
  if (parsed.is_discarded()) {
    return Error(res->status, "InvalidResponse",
                 "the reply to GET " + std::string(target) + " is not JSON");
  }
  return parsed;
}

Result<json> Api::list(std::string_view target) {
  json items = json::array();
  std::string next(target);
  while (!next.empty()) {
    auto page = get_json(next);
    if (!page) return page.error();
    auto value = page->find("value");
    if (!page->is_object() || value == page->end() || !value->is_array()) {
      return Error(200, "InvalidResponse", "the reply to GET " + next + " has no value array");
    }
    for (auto& item : *value) items.push_back(std::move(item));
    auto link = page->find("odata.nextLink");
    std::string following =
        link != page->end() && link->is_string() ? link->get<std::string>() : "";
    if (!following.empty() && following == next) {
      return Error(200, "InvalidResponse", "odata.nextLink repeats the page it is on: " + next);
    }
    next = std::move(following);
  }
  return items;
}

std::string path_of(std::initializer_list<std::string_view> segments) {
  std::string out;
  for (auto s : segments) {
    out += '/';
    out += encoding::percent_encode_component(s);
  }
  return out;
}

std::string with_query(std::string target, std::string_view name, std::string_view value) {
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += name;
  target += '=';
  target += encoding::percent_encode_component(value);
  return target;
}

std::string to_body(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string to_body_pretty(const json& value) {
  return value.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace openbatch::cli
