// HttpFetcher: downloads one package from the scheduler over plain HTTP into a file, with the
// node's bearer token, streaming the body to disk in chunks (packages may be gigabytes; the
// body is never held in memory).
//
// Why not common/http/client.hpp: HttpClient reads whole bodies into a string (and caps them),
// which is right for API calls and wrong here. Like HttpClient, every operation is started
// asynchronously on a private io_context and run to completion, because Beast enforces
// tcp_stream deadlines only on asynchronous operations. Note for later: the agent's resource
// file download (runner/resource_files.cpp) buffers whole files through HttpClient and could
// move onto this streaming fetch.
//
// Timeouts: connect_timeout to establish the connection; idle_timeout for each step after it
// (sending the request, the headers, each body chunk), so a large download is not cut off while
// data keeps coming. Thread-safe: fetch() shares nothing between calls.
#pragma once

#include "common/error.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace openbatch::agent::packages {

inline constexpr std::string_view kPackageDownloadFailed = "PackageDownloadFailed";

struct HttpFetcherOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  std::uint64_t max_bytes = 16ull << 30;  // a longer body fails the download
  std::string user_agent = "openbatch-agent/0.1";
};

class HttpFetcher {
 public:
  explicit HttpFetcher(HttpFetcherOptions options = {}) : options_(std::move(options)) {}

  // GETs `url` (http://host[:port]/path[?query]) with "Authorization: Bearer <token>" (omitted
  // when the token is empty) and writes the 200 response's body to `destination_file`
  // (created or truncated, mode 0600, fsynced). Any other status, a connection failure, a
  // timeout or a truncated body is a 502 kPackageDownloadFailed Error naming the URL (and the
  // status code), and `destination_file` is removed.
  [[nodiscard]] Status fetch(const std::string& url, const std::string& bearer_token,
                             const std::filesystem::path& destination_file) const;

  // So that an HttpFetcher converts to PackageInstaller's Fetcher.
  Status operator()(const std::string& url, const std::string& bearer_token,
                    const std::filesystem::path& destination_file) const {
    return fetch(url, bearer_token, destination_file);
  }

 private:
  HttpFetcherOptions options_;
};

}  // namespace openbatch::agent::packages
