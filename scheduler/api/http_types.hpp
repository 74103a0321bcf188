// The HTTP message types the API layer speaks. The Beast session (scheduler/server) only moves
// bytes; routes take an HttpRequest and produce an HttpResponse, knowing nothing of sockets.
#pragma once

#include <boost/beast/http.hpp>

namespace openbatch::api {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// Azure answers JSON with this exact media type; clients parse bodies labelled otherwise as text.
inline constexpr const char* kJsonContentType = "application/json;odata=minimalmetadata";

}  // namespace openbatch::api
