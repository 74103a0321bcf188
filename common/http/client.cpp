// HttpClient and BatchClient on Boost.Beast. The API is synchronous, but every operation is
// started asynchronously on a private io_context and run to completion, because Beast only
// enforces tcp_stream timeouts on asynchronous operations: a stuck server then costs one
// deadline, not a hung CLI.
#include "common/http/client.hpp"

#include "common/http_date.hpp"
#include "common/text/ascii.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>

namespace openbatch::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Tcp = asio::ip::tcp;
using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::uint32_t kHeaderLimit = 64 * 1024;

template <class StringLike>
std::string_view sv(const StringLike& s) {
  return {s.data(), s.size()};
}

Error no_response(std::string_view code, std::string message) {
  return Error(0, std::string(code), std::move(message));
}

struct BaseUrl {
  std::string host;  // for the resolver: a name or an IP address without brackets
  std::string port;
  std::string host_header;  // "host:port" as written in the URL
  std::string path_prefix;  // encoded, no trailing '/'
};

Result<BaseUrl> parse_base_url(std::string_view url) {
  const auto u = boost::urls::parse_uri(url);
  if (!u) return no_response(kInvalidUrl, "'" + std::string(url) + "' is not an absolute URL");
  if (u->scheme_id() != boost::urls::scheme::http) {
    return no_response(kInvalidUrl, "'" + std::string(url) +
                                        "': only http:// is supported; terminate TLS in front");
  }
  if (u->encoded_host().empty()) {
    return no_response(kInvalidUrl, "'" + std::string(url) + "' names no host");
  }
  BaseUrl base;
  base.host = u->host_address();
  base.port = u->has_port() ? std::string(u->port()) : "80";
  base.host_header = std::string(u->encoded_host_and_port());
  base.path_prefix = std::string(u->encoded_path());
  while (base.path_prefix.ends_with('/')) base.path_prefix.pop_back();
  return base;
}

// A request-target must be printable ASCII without spaces: anything else would corrupt the
// request line.
bool valid_target(std::string_view target) {
  return !target.empty() && std::all_of(target.begin(), target.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
}

// Header names and values must not smuggle in line breaks (header injection).
bool valid_header(std::string_view name, std::string_view value) {
  const auto bad = [](char c) { return c == '\r' || c == '\n' || c == '\0'; };
  return !name.empty() && std::none_of(name.begin(), name.end(), bad) &&
         name.find_first_of(" :\t") == std::string_view::npos &&
         std::none_of(value.begin(), value.end(), bad);
}

Result<std::string> resolve_target(const BaseUrl& base, std::string_view target) {
  std::string out;
  if (target.starts_with("http://") || target.starts_with("https://")) {
    // An absolute link (odata.nextLink) already carries the whole path; its host is the
    // server's idea of itself, which may not be the address we reach it at.
    const auto u = boost::urls::parse_uri(target);
    if (!u) return no_response(kInvalidRequest, "'" + std::string(target) + "' is not a URL");
    out = u->encoded_path().empty() ? std::string("/") : std::string(u->encoded_path());
    if (u->has_query()) {
      out += '?';
      out += u->encoded_query();
    }
  } else {
    out = base.path_prefix;
    if (!target.starts_with('/')) out += '/';
    out += target;
  }
  if (!valid_target(out)) {
    return no_response(kInvalidRequest,
                       "'" + std::string(target) + "' is not an encoded request target");
  }
  return out;
}

bool is_idempotent(bhttp::verb v) {
  return v == bhttp::verb::get || v == bhttp::verb::head || v == bhttp::verb::put ||
         v == bhttp::verb::delete_ || v == bhttp::verb::options;
}

HttpResponse to_response(BeastResponse&& res) {
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.body = std::move(res.body());
  for (const auto& f : res) {
    auto [it, inserted] =
        out.headers.try_emplace(std::string(sv(f.name_string())), std::string(sv(f.value())));
    if (!inserted) {
      it->second += ", ";
      it->second += sv(f.value());
    }
  }
  return out;
}

}  // namespace

bool CiLess::operator()(std::string_view a, std::string_view b) const noexcept {
  return text::iless(a, b);
}

std::string_view HttpResponse::header(std::string_view name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string_view{} : std::string_view(it->second);
}

struct HttpClient::Impl {
  ClientOptions options;
  Result<BaseUrl> base;
  asio::io_context ioc{1};
  Tcp::resolver resolver{ioc};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;        // kept across requests: its capacity is reused
  BeastRequest req;                 // likewise
  std::filesystem::path body_file;  // non-empty: the body is this file (request_file)
  std::uint64_t body_file_size = 0;
  std::vector<auth::HeaderField> signed_fields;
  std::size_t connections = 0;

  Impl(std::string_view base_url, ClientOptions opts)
      : options(std::move(opts)), base(parse_base_url(base_url)) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() { disconnect(); }

  // Runs the operations just started until they complete (or time out).
  void run() {
    ioc.restart();
    ioc.run();
  }

  void disconnect() {
    beast::error_code ignored;
    if (stream.socket().is_open()) {
      stream.socket().shutdown(Tcp::socket::shutdown_both, ignored);
      stream.socket().close(ignored);
    }
    buffer.clear();
  }

  // True when an open connection can take a request: nothing is readable on it. A peer
  // that closed an idle connection has left an EOF (or a reset) to read.
  bool connection_usable() {
    if (!stream.socket().is_open()) return false;
    char byte = 0;
    const auto n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  Status connect(SteadyTime deadline) {
    beast::error_code ec;
    const auto endpoints = resolver.resolve(base->host, base->port, ec);
    if (ec) {
      return no_response(kConnectFailed, "cannot resolve " + base->host + ": " + ec.message());
    }
    stream.expires_at(deadline);
    stream.async_connect(endpoints, [&ec](beast::error_code e, const Tcp::endpoint&) { ec = e; });
    run();
    if (ec == beast::error::timeout) {
      return no_response(kRequestTimedOut, "connecting to " + base->host_header + " timed out");
    }
    if (ec) {
      return no_response(kConnectFailed,
                         "cannot connect to " + base->host_header + ": " + ec.message());
    }
    stream.socket().set_option(Tcp::no_delay(true), ec);  // latency over batching
    ++connections;
    buffer.clear();
    return {};
  }

  struct Exchange {
    beast::error_code ec;
    bool written = false;       // the whole request was handed to the kernel
    bool got_response = false;  // at least one byte of a response arrived
  };

  Exchange exchange(bhttp::response_parser<bhttp::string_body>& parser, SteadyTime deadline) {
    Exchange x;
    stream.expires_at(deadline);
    if (body_file.empty()) {
      bhttp::async_write(stream, req, [&x](beast::error_code e, std::size_t) { x.ec = e; });
    } else {
      // Opened per attempt: a replay after a stale keep-alive connection starts over.
      bhttp::request<bhttp::file_body> file_req{req.base()};
      file_req.body().open(body_file.c_str(), beast::file_mode::scan, x.ec);
      if (x.ec) return x;
      file_req.content_length(body_file_size);
      bhttp::async_write(stream, file_req, [&x](beast::error_code e, std::size_t) { x.ec = e; });
      run();
      if (x.ec) return x;
      x.written = true;
      bhttp::async_read(stream, buffer, parser,
                        [&x](beast::error_code e, std::size_t) { x.ec = e; });
      run();
      x.got_response = parser.got_some();
      return x;
    }
    run();
    if (x.ec) return x;
    x.written = true;
    bhttp::async_read(stream, buffer, parser, [&x](beast::error_code e, std::size_t) { x.ec = e; });
    run();
    x.got_response = parser.got_some();
    return x;
  }

  Result<HttpResponse> send();
  Result<HttpResponse> sign_and_send(const Signer& signer);
  Status prepare(std::string_view method, std::string_view target, std::string&& body,
                 HeaderList&& headers);
};

Status HttpClient::Impl::prepare(std::string_view method, std::string_view target,
                                 std::string&& body, HeaderList&& headers) {
  auto resolved = resolve_target(*base, target);
  if (!resolved) return resolved.error();
  req.clear();
  req.version(11);
  const bhttp::verb verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(*resolved);
  req.set(bhttp::field::host, base->host_header);
  req.set(bhttp::field::user_agent, options.user_agent);
  req.set(bhttp::field::accept, "application/json");
  for (const auto& [name, value] : headers) {
    if (!valid_header(name, value)) {
      return no_response(kInvalidRequest, "header '" + name + "' is not a valid HTTP header");
    }
    req.set(name, value);
  }
  req.body() = std::move(body);
  // A body-less POST still says "Content-Length: 0", as the JS SDK does (batch-api.md 9.3);
  // the length is always the real one, whatever the caller passed.
  const bool expects_body =
      verb == bhttp::verb::post || verb == bhttp::verb::put || verb == bhttp::verb::patch;
  if (!req.body().empty() || expects_body) {
    req.content_length(req.body().size());
  } else {
    req.erase(bhttp::field::content_length);
  }
  return {};
}

Result<HttpResponse> HttpClient::Impl::send() {
  SteadyTime deadline = std::chrono::steady_clock::now() + options.timeout;
  if (!body_file.empty()) deadline += std::chrono::seconds(body_file_size >> 20);
  const bool head = req.method() == bhttp::verb::head;
  for (int attempt = 0;; ++attempt) {
    const bool reused = connection_usable();
    if (!reused) {
      disconnect();
      if (auto c = connect(deadline); !c) return c.error();
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(options.max_response_body);
    parser.skip(head);  // a HEAD response announces a length but carries no body
    const Exchange x = exchange(parser, deadline);
    if (!x.ec) {
      BeastResponse res = parser.release();
      if (!res.keep_alive()) disconnect();
      return to_response(std::move(res));
    }
    disconnect();
    if (x.ec == beast::error::timeout) {
      return no_response(kRequestTimedOut, "no response from " + base->host_header + " within " +
                                               std::to_string(options.timeout.count()) + " ms");
    }
    // The server may close a kept-alive connection just as we reuse it. If the request did
    // not get through, or it is idempotent and no answer began, sending it again on a fresh
    // connection is safe; a POST that may have been processed is not replayed.
    const bool replayable = !x.written || is_idempotent(req.method());
    if (reused && attempt == 0 && !x.got_response && replayable) continue;
    return no_response(kTransportFailed,
                       "request to " + base->host_header + " failed: " + x.ec.message());
  }
}

HttpClient::HttpClient(std::string_view base_url, ClientOptions options)
    : impl_(std::make_unique<Impl>(base_url, std::move(options))) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

Status HttpClient::valid() const {
  if (!impl_->base) return impl_->base.error();
  return {};
}

Result<HttpResponse> HttpClient::request(std::string_view method, std::string_view target,
                                         std::string body, HeaderList headers,
                                         const Signer& signer) {
  if (!impl_->base) return impl_->base.error();
  impl_->body_file.clear();
  if (auto p = impl_->prepare(method, target, std::move(body), std::move(headers)); !p) {
    return p.error();
  }
  return impl_->sign_and_send(signer);
}

Result<HttpResponse> HttpClient::request_file(std::string_view method, std::string_view target,
                                              const std::filesystem::path& file, HeaderList headers,
                                              const Signer& signer) {
  if (!impl_->base) return impl_->base.error();
  std::error_code fec;
  const auto size = std::filesystem::file_size(file, fec);
  if (fec) {
    return no_response(kInvalidRequest, "cannot read " + file.string() + ": " + fec.message());
  }
  if (auto p = impl_->prepare(method, target, {}, std::move(headers)); !p) return p.error();
  impl_->req.content_length(size);  // signed: SharedKey covers Content-Length
  impl_->body_file = file;
  impl_->body_file_size = size;
  auto res = impl_->sign_and_send(signer);
  impl_->body_file.clear();
  return res;
}

Result<HttpResponse> HttpClient::Impl::sign_and_send(const Signer& signer) {
  if (signer) {
    auto& fields = signed_fields;
    fields.clear();
    for (const auto& f : req) fields.push_back({sv(f.name_string()), sv(f.value())});
    const std::string authorization =
        signer(auth::RequestView{sv(req.method_string()), sv(req.target()), fields});
    req.set(bhttp::field::authorization, authorization);
  }
  return send();
}

void HttpClient::close() { impl_->disconnect(); }

std::size_t HttpClient::connections_opened() const { return impl_->connections; }

BatchClient::BatchClient(std::string_view base_url, std::string account,
                         std::string_view base64_key, const ClientOptions& options)
    : http_(base_url, options), clock_(options.clock) {
  auto credential = auth::SharedKeyCredential::from_base64(std::move(account), base64_key);
  if (credential) {
    credential_ = std::move(*credential);
  } else {
    key_error_ = no_response(kInvalidAccountKey, "the account key is not valid base64");
  }
}

Status BatchClient::valid() const {
  if (key_error_) return *key_error_;
  return http_.valid();
}

Result<HttpResponse> BatchClient::request(std::string_view method, std::string_view target,
                                          std::string body, HeaderList extra_headers) {
  if (auto v = valid(); !v) return v.error();
  bool has_type = false;
  bool has_date = false;
  for (const auto& [name, value] : extra_headers) {
    has_type = has_type || text::iequals(name, "Content-Type");
    has_date = has_date || text::iequals(name, "ocp-date");
  }
  // The JS SDK sends a JSON Content-Type even on GET and signs it (batch-api.md 9.4).
  if (!has_type) {
    extra_headers.emplace_back("Content-Type",
                               body.empty() ? kJsonContentType : kJsonBodyContentType);
  }
  if (!has_date) {
    const TimePoint now = clock_ ? clock_->now() : std::chrono::system_clock::now();
    extra_headers.emplace_back("ocp-date", format_http_date(now));
  }
  const auth::SharedKeyCredential& credential = *credential_;
  return http_.request(
      method, with_api_version(target), std::move(body), std::move(extra_headers),
      [&credential](const auth::RequestView& view) { return auth::sign(view, credential); });
}

Result<HttpResponse> BatchClient::request_file(std::string_view method, std::string_view target,
                                               const std::filesystem::path& file,
                                               HeaderList extra_headers) {
  if (auto v = valid(); !v) return v.error();
  bool has_date = false;
  for (const auto& [name, value] : extra_headers)
    has_date = has_date || text::iequals(name, "ocp-date");
  if (!has_date) {
    const TimePoint now = clock_ ? clock_->now() : std::chrono::system_clock::now();
    extra_headers.emplace_back("ocp-date", format_http_date(now));
  }
  const auth::SharedKeyCredential& credential = *credential_;
  return http_.request_file(
      method, with_api_version(target), file, std::move(extra_headers),
      [&credential](const auth::RequestView& view) { return auth::sign(view, credential); });
}

std::string with_api_version(std::string_view target, std::string_view version) {
  const auto q = target.find('?');
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view param = rest.substr(0, amp);
      if (text::iequals(param.substr(0, param.find('=')), "api-version"))
        return std::string(target);
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    }
  }
  std::string out(target);
  if (q == std::string_view::npos) {
    out += '?';
  } else if (!out.ends_with('?') && !out.ends_with('&')) {
    out += '&';
  }
  out += "api-version=";
  out += version;
  return out;
}

}  // namespace openbatch::http
