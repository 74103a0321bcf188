#include "scheduler/api/request_context.hpp"

#include "common/text/ascii.hpp"

#include <algorithm>

namespace openbatch::api {

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return text::iless(a, b);
}

std::optional<std::string_view> RequestContext::query_param(std::string_view name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<std::string_view> RequestContext::header(std::string_view name) const {
  auto it = http.find(boost::beast::string_view(name.data(), name.size()));
  if (it == http.end()) return std::nullopt;
  auto v = it->value();
  return std::string_view(v.data(), v.size());
}

}  // namespace openbatch::api
