// Synchronous keep-alive HTTP/1.1 client (HttpClient) and the Azure Batch flavour of it
// (BatchClient: api-version, ocp-date, Content-Type and SharedKey signing as the JS SDK
// does). Used by the CLI, benchmarks and integration tests.
//
// Threading: a client object is not thread-safe; use one per thread. Each owns one TCP
// connection, reused across requests and reopened once, transparently, when the server
// closed it while idle. A moved-from client may only be destroyed or assigned to.
#pragma once

#include "common/auth/shared_key.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace openbatch::http {

// The api-version BatchClient adds when a target has none (the JS SDK's fixed version).
inline constexpr std::string_view kApiVersion = "2022-10-01.16.0";
inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";
inline constexpr std::string_view kJsonBodyContentType =
    "application/json; odata=minimalmetadata; charset=utf-8";

// Error codes of failures where no HTTP response was received; those Errors carry status 0.
// An HTTP error status (404, 409, ...) is not an Error: it is an HttpResponse.
inline constexpr std::string_view kInvalidUrl = "InvalidUrl";                // bad base URL
inline constexpr std::string_view kInvalidRequest = "InvalidRequest";        // bad target/header
inline constexpr std::string_view kInvalidAccountKey = "InvalidAccountKey";  // not base64
inline constexpr std::string_view kConnectFailed = "ConnectFailed";          // resolve/connect
inline constexpr std::string_view kRequestTimedOut = "RequestTimedOut";      // past the deadline
inline constexpr std::string_view kTransportFailed = "TransportFailed";      // I/O or bad response

// Case-insensitive (ASCII) ordering, for header names.
struct CiLess {
  using is_transparent = void;  // NOLINT(readability-identifier-naming): std's name
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};

using HeaderMap = std::map<std::string, std::string, CiLess>;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  std::string body;
  HeaderMap headers;  // repeated headers are joined with ", "

  // The header's value, or "" when absent.
  std::string_view header(std::string_view name) const;
};

struct ClientOptions {
  // Deadline of one request: connecting, writing and reading the whole response.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  std::uint64_t max_response_body = 256ull << 20;  // larger responses fail (TransportFailed)
  std::string user_agent = "openbatch/0.1";
  const Clock* clock = nullptr;  // ocp-date source (BatchClient); null: the system clock.
                                 // Must outlive the client.
};

// Computes the Authorization value for the final request (every header set, target
// resolved); HttpClient then adds it. See auth::sign.
using Signer = std::function<std::string(const auth::RequestView&)>;

class HttpClient {
 public:
  // base_url: "http://host[:port][/prefix]". A malformed or non-http URL is reported by
  // valid() and by every request(). TLS is not supported (terminate it in front).
  explicit HttpClient(std::string_view base_url, ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  Status valid() const;

  // Sends one request and reads the whole response. `target` is an encoded "path?query"
  // (the base URL's path prefix is prepended) or an absolute "http(s)://..." URL such as an
  // odata.nextLink, of which only the path and query are used. Host, User-Agent, Accept and
  // Content-Length are set here (Content-Length also as 0 on a body-less POST/PUT/PATCH);
  // `headers` override the first three. With a signer, its result becomes Authorization.
  Result<HttpResponse> request(std::string_view method, std::string_view target,
                               std::string body = {}, HeaderList headers = {},
                               const Signer& signer = {});

  // As request, with the contents of `file` as the body, streamed from disk (never read into
  // memory whole; Content-Length is its size). The deadline grows by one second per MiB.
  Result<HttpResponse> request_file(std::string_view method, std::string_view target,
                                    const std::filesystem::path& file, HeaderList headers = {},
                                    const Signer& signer = {});

  // Closes the connection; the next request opens a new one.
  void close();

  // TCP connections opened so far (keep-alive shows as 1 for many requests).
  std::size_t connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class BatchClient {
 public:
  // base64_key: the account key as the portal shows it. A malformed key or URL is reported
  // by valid() and by every request().
  BatchClient(std::string_view base_url, std::string account, std::string_view base64_key,
              const ClientOptions& options = {});

  Status valid() const;

  // As HttpClient::request, then: api-version=kApiVersion is appended when the query has
  // none (names compared case-insensitively); ocp-date (now) and Content-Type
  // (kJsonBodyContentType with a body, else kJsonContentType) are added unless
  // `extra_headers` has them; the request is signed with SharedKey.
  Result<HttpResponse> request(std::string_view method, std::string_view target,
                               std::string body = {}, HeaderList extra_headers = {});

  // As request, with `file` as the body (HttpClient::request_file); signed like any request
  // (SharedKey covers Content-Length, not the bytes).
  Result<HttpResponse> request_file(std::string_view method, std::string_view target,
                                    const std::filesystem::path& file,
                                    HeaderList extra_headers = {});

  HttpClient& http() { return http_; }

 private:
  HttpClient http_;
  std::optional<auth::SharedKeyCredential> credential_;
  std::optional<Error> key_error_;
  const Clock* clock_;
};

// `target` with "api-version=<version>" appended unless its query already names
// api-version (case-insensitively). Exposed for tests and for callers building links.
std::string with_api_version(std::string_view target, std::string_view version = kApiVersion);

}  // namespace openbatch::http
