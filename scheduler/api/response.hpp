// Building responses in the Azure Batch wire shape: JSON media type, request-id on every
// answer, client-request-id echo, entity headers (ETag, Last-Modified, DataServiceId), and the
// error body {odata.metadata, code, message{lang,value}, values[{key,value}]}.
#pragma once

#include "common/error.hpp"
#include "scheduler/api/http_types.hpp"
#include "scheduler/api/request_context.hpp"

#include <string>
#include <string_view>

namespace openbatch::api {

// A response with the common headers set and no body.
HttpResponse empty_response(const RequestContext& ctx, http::status status);
// A JSON response whose body is already serialized.
HttpResponse json_response(const RequestContext& ctx, http::status status, std::string body);
// The Azure error body for `error`, with its HTTP status.
HttpResponse error_response(const RequestContext& ctx, const Error& error);

// Entity headers. `etag` is the body's eTag; `last_modified` its lastModified (ISO 8601).
void set_entity_headers(HttpResponse& res, std::string_view etag, std::string_view last_modified);
void set_data_service_id(HttpResponse& res, std::string_view url);

}  // namespace openbatch::api
