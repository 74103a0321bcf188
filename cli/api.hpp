// The CLI's view of the Azure Batch REST API: a signing keep-alive BatchClient, replies that
// are not the expected status turned into Errors (Azure code, message, values), JSON
// bodies parsed, and list calls followed through odata.nextLink. Plus URL building for ids,
// file paths and query values.
//
// Threading: an Api owns one connection and is not thread-safe; make one per thread.
#pragma once

#include "cli/config.hpp"
#include "common/error.hpp"
#include "common/http/client.hpp"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

namespace openbatch::cli {

class Api {
 public:
  explicit Api(const Connection& connection);

  // A malformed URL or account key (then every request fails the same way).
  Status valid() const { return client_.valid(); }

  // Sends a request and returns the response whatever its status; Errors only for requests
  // that got no response (status 0: connect, timeout, transport, bad URL or key).
  Result<http::HttpResponse> send(std::string_view method, std::string_view target,
                                  std::string body = {}, http::HeaderList headers = {});

  // As send, but a status other than `expected` becomes the Error of the reply's body.
  Result<http::HttpResponse> call(std::string_view method, std::string_view target, int expected,
                                  std::string body = {}, http::HeaderList headers = {});

  // As send, with the contents of `file` as the body, streamed from disk.
  Result<http::HttpResponse> send_file(std::string_view method, std::string_view target,
                                       const std::string& file, http::HeaderList headers = {});

  // GET, expecting 200 and a JSON body.
  Result<nlohmann::json> get_json(std::string_view target);

  // GETs a list and every page after it (odata.nextLink); returns the items of all pages as
  // one JSON array.
  Result<nlohmann::json> list(std::string_view target);

 private:
  http::BatchClient client_;
};

// "/seg1/seg2/..." with every segment percent-encoded (ids, or a whole file path as one
// segment as the SDKs send it).
std::string path_of(std::initializer_list<std::string_view> segments);

// `target` with "name=value" appended to its query (value percent-encoded).
std::string with_query(std::string target, std::string_view name, std::string_view value);

// A JSON body as compact text (invalid UTF-8 replaced rather than thrown on).
std::string to_body(const nlohmann::json& value);

// The same, indented by two spaces, for printing.
std::string to_body_pretty(const nlohmann::json& value);

}  // namespace openbatch::cli
