#include "scheduler/server/connection_policy.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <sys/resource.h>

namespace openbatch::server {

namespace http = boost::beast::http;

std::uint64_t fd_reserve(std::uint64_t fd_limit) {
  return std::max<std::uint64_t>(48, fd_limit / 8);
}

std::size_t default_connection_cap(std::uint64_t fd_limit) {
  constexpr std::uint64_t kFloor = 16;
  const std::uint64_t reserve = fd_reserve(fd_limit);
  const std::uint64_t cap = fd_limit > reserve + kFloor ? fd_limit - reserve : kFloor;
  return static_cast<std::size_t>(std::min<std::uint64_t>(cap, SIZE_MAX));
}

std::size_t refusal_slots(std::uint64_t fd_limit) {
  // A quarter of the reserve: the rest stays for the database, blobs and agents.
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(fd_reserve(fd_limit) / 4, 4, 256));
}

std::uint64_t current_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1024;
  return limit.rlim_cur;
}

std::optional<std::size_t> pick_connection_to_close(std::span<const ConnectionState> connections) {
  std::optional<std::size_t> oldest;
  for (std::size_t i = 0; i < connections.size(); ++i) {
    const auto& c = connections[i];
    if (c.busy || c.closing) continue;
    if (!oldest || c.idle_since < connections[*oldest].idle_since) oldest = i;
  }
  return oldest;
}

std::chrono::milliseconds AcceptBackoff::failed() {
  next_ = next_.count() == 0 ? min_ : std::min(next_ * 2, max_);
  return next_;
}

std::size_t LogThrottle::note(Clock::time_point now) {
  ++pending_;
  if (last_line_ && now - *last_line_ < interval_) return 0;
  last_line_ = now;
  return std::exchange(pending_, 0);
}

AcceptFailure classify_accept_error(const boost::system::error_code& ec) {
  namespace error = boost::asio::error;
  if (ec == error::operation_aborted || ec == error::bad_descriptor) return AcceptFailure::stopped;
  if (ec.category() == boost::system::system_category()) {
    switch (ec.value()) {
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        return AcceptFailure::exhausted;
      case ECONNABORTED:
      case EPROTO:
      case EPERM:  // a firewall refused this one connection
      case EINTR:
      case EAGAIN:
        return AcceptFailure::transient;
      default:
        break;
    }
  }
  // Unknown: treat as exhaustion, so that a persistent failure cannot spin the loop.
  return AcceptFailure::exhausted;
}

std::optional<TransportAnswer> answer_for_read_error(const boost::system::error_code& ec) {
  if (ec.category() != http::make_error_code(http::error::bad_method).category())
    return std::nullopt;
  switch (static_cast<http::error>(ec.value())) {
    case http::error::end_of_stream:    // closed between requests
    case http::error::partial_message:  // closed in the middle of one: no one to answer
      return std::nullopt;
    case http::error::header_limit:
    case http::error::buffer_overflow:
      return TransportAnswer{http::status::request_header_fields_too_large, "RequestHeaderTooLarge",
                             "The request headers are too large."};
    case http::error::body_limit:
      return TransportAnswer{
          http::status::payload_too_large, "RequestBodyTooLarge",
          "The request body is too large and exceeds the maximum permissible limit."};
    case http::error::bad_version:
      return TransportAnswer{http::status::bad_request, "InvalidHttpRequest",
                             "The request line has no valid HTTP version (HTTP/1.0 or HTTP/1.1)."};
    case http::error::bad_method:
      return TransportAnswer{http::status::bad_request, "InvalidHttpRequest",
                             "The request method is malformed."};
    case http::error::bad_target:
      return TransportAnswer{http::status::bad_request, "InvalidUri",
                             "The request URI is malformed."};
    case http::error::bad_line_ending:
      return TransportAnswer{http::status::bad_request, "InvalidHttpRequest",
                             "Lines of the request must end with CRLF."};
    case http::error::bad_field:
    case http::error::bad_value:
    case http::error::bad_obs_fold:
      return TransportAnswer{
          http::status::bad_request, "InvalidHeaderValue",
          "A request header is malformed (bad name, control character or folded line)."};
    case http::error::bad_content_length:
    case http::error::multiple_content_length:
      return TransportAnswer{http::status::bad_request, "InvalidHeaderValue",
                             "The Content-Length header is malformed or given more than once."};
    case http::error::bad_transfer_encoding:
      return TransportAnswer{http::status::bad_request, "InvalidHeaderValue",
                             "The Transfer-Encoding header is not supported with this request."};
    case http::error::bad_chunk:
    case http::error::bad_chunk_extension:
      return TransportAnswer{http::status::bad_request, "InvalidRequestBody",
                             "The chunked request body is malformed."};
    default:
      return TransportAnswer{http::status::bad_request, "InvalidHttpRequest",
                             "The request is malformed."};
  }
}

std::optional<TransportAnswer> answer_for_version(unsigned version) {
  if (version / 10 == 1) return std::nullopt;
  return TransportAnswer{http::status::http_version_not_supported, "UnsupportedHttpVersion",
                         "Only HTTP/1.0 and HTTP/1.1 are supported."};
}

TransportAnswer answer_for_bad_version(std::string_view received) {
  const auto end = received.find("\r\n");
  const std::string_view line = received.substr(0, end);
  constexpr std::string_view kPrefix = " HTTP/";
  const auto at = line.rfind(kPrefix);
  const bool digit_dot_digit =
      at != std::string_view::npos && line.size() == at + kPrefix.size() + 3 &&
      std::isdigit(static_cast<unsigned char>(line[at + 6])) && line[at + 7] == '.' &&
      std::isdigit(static_cast<unsigned char>(line[at + 8]));
  if (end != std::string_view::npos && digit_dot_digit && line[at + 6] != '1') {
    return *answer_for_version(
        static_cast<unsigned>((line[at + 6] - '0') * 10 + (line[at + 8] - '0')));
  }
  return *answer_for_read_error(http::error::bad_version);
}

TransportAnswer request_timeout_answer() {
  return {http::status::request_timeout, "RequestTimeout",
          "The request was not received in time; send its header and body without pausing."};
}

TransportAnswer server_busy_answer() {
  return {http::status::service_unavailable, "ServerBusy",
          "The server is busy: too many connections are open. Retry later."};
}

}  // namespace openbatch::server
