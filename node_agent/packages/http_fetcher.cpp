// HttpFetcher on Boost.Beast: response_parser<buffer_body> reads the body into a fixed chunk
// that is written to the file before the next read (see http_fetcher.hpp).
#include "node_agent/packages/http_fetcher.hpp"

#include "common/posix/unique_fd.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace openbatch::agent::packages {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Tcp = asio::ip::tcp;

constexpr std::size_t kChunkBytes = 256 * 1024;
constexpr std::uint32_t kHeaderLimit = 64 * 1024;

Error download_error(const std::string& url, std::string_view reason) {
  return Error(502, std::string(kPackageDownloadFailed),
               "downloading " + url + ": " + std::string(reason));
}

// One download: the connection, its private io_context and the output file.
class Download {
 public:
  Download(const std::string& url, const HttpFetcherOptions& options)
      : url_(url), options_(options) {}

  Status run(const std::string& bearer_token, const std::filesystem::path& destination) {
    auto parsed = boost::urls::parse_absolute_uri(url_);
    if (!parsed || parsed->scheme_id() != boost::urls::scheme::http ||
        parsed->encoded_host().empty()) {
      return download_error(url_, "not an http:// URL");
    }
    const std::string host = parsed->host_address();
    const std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
    host_and_port_ = std::string(parsed->encoded_host_and_port());
    std::string target(parsed->encoded_path());
    if (target.empty()) target = "/";
    if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());
    if (bearer_token.find_first_of("\r\n") != std::string::npos) {
      return download_error(url_, "the bearer token contains a line break");
    }

    if (auto st = connect(host, port); !st) return st;
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, host_and_port_);
    req.set(bhttp::field::user_agent, options_.user_agent);
    req.set(bhttp::field::accept, "application/octet-stream");
    if (!bearer_token.empty()) req.set(bhttp::field::authorization, "Bearer " + bearer_token);
    beast::error_code ec;
    stream_.expires_after(options_.idle_timeout);
    bhttp::async_write(stream_, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
    complete();
    if (ec) return transport_error(ec, "sending the request");

    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(options_.max_bytes);
    stream_.expires_after(options_.idle_timeout);
    bhttp::async_read_header(stream_, buffer_, parser,
                             [&ec](beast::error_code e, std::size_t) { ec = e; });
    complete();
    if (ec) return transport_error(ec, "reading the response");
    const auto status = parser.get().result_int();
    if (status != 200) {
      return download_error(url_, "the server answered HTTP " + std::to_string(status) + " " +
                                      std::string(parser.get().reason()));
    }
    return save_body(parser, destination);
  }

 private:
  // Runs the operations just started until they complete or time out.
  void complete() {
    ioc_.restart();
    ioc_.run();
  }

  Error transport_error(const beast::error_code& ec, std::string_view during) const {
    if (ec == beast::error::timeout) {
      return download_error(url_, std::string(during) + ": no data from " + host_and_port_ +
                                      " within " + std::to_string(options_.idle_timeout.count()) +
                                      " ms");
    }
    if (ec == bhttp::error::body_limit) {
      return download_error(
          url_, "the body is larger than " + std::to_string(options_.max_bytes) + " bytes");
    }
    return download_error(url_, std::string(during) + ": " + ec.message());
  }

  Status connect(const std::string& host, const std::string& port) {
    beast::error_code ec;
    Tcp::resolver resolver(ioc_);
    const auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return download_error(url_, "cannot resolve " + host + ": " + ec.message());
    stream_.expires_after(options_.connect_timeout);
    stream_.async_connect(endpoints, [&ec](beast::error_code e, const Tcp::endpoint&) { ec = e; });
    complete();
    if (ec == beast::error::timeout) {
      return download_error(url_, "connecting to " + host_and_port_ + " timed out");
    }
    if (ec)
      return download_error(url_, "cannot connect to " + host_and_port_ + ": " + ec.message());
    return {};
  }

  Status save_body(bhttp::response_parser<bhttp::buffer_body>& parser,
                   const std::filesystem::path& destination) {
    posix::UniqueFd fd(
        ::open(destination.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) {
      return download_error(url_,
                            "writing " + destination.string() + ": " + posix::errno_text(errno));
    }
    std::vector<char> chunk(kChunkBytes);
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      beast::error_code ec;
      stream_.expires_after(options_.idle_timeout);
      bhttp::async_read(stream_, buffer_, parser,
                        [&ec](beast::error_code e, std::size_t) { ec = e; });
      complete();
      if (ec == bhttp::error::need_buffer) ec = {};  // the chunk is full: write it out
      if (ec) return transport_error(ec, "reading the body");
      const std::size_t got = chunk.size() - parser.get().body().size;
      if (auto st = write_all(fd.get(), chunk.data(), got, destination); !st) return st;
    }
    if (::fsync(fd.get()) != 0) {
      return download_error(url_,
                            "syncing " + destination.string() + ": " + posix::errno_text(errno));
    }
    return {};
  }

  Status write_all(int fd, const char* data, std::size_t size,
                   const std::filesystem::path& destination) const {
    while (size > 0) {
      const ssize_t n = ::write(fd, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return download_error(url_,
                              "writing " + destination.string() + ": " + posix::errno_text(errno));
      }
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return {};
  }

  const std::string& url_;
  const HttpFetcherOptions& options_;
  std::string host_and_port_;
  asio::io_context ioc_{1};
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
};

}  // namespace

Status HttpFetcher::fetch(const std::string& url, const std::string& bearer_token,
                          const std::filesystem::path& destination_file) const {
  Download download(url, options_);
  Status st = download.run(bearer_token, destination_file);
  if (!st) {
    std::error_code ignored;
    std::filesystem::remove(destination_file, ignored);
  }
  return st;
}

}  // namespace openbatch::agent::packages
