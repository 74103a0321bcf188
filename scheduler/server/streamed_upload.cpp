#include "scheduler/server/streamed_upload.hpp"

#include "common/text/ascii.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <chrono>

namespace openbatch::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// A slow client is fine; one that sends nothing for this long is gone.
constexpr std::chrono::seconds kPieceTimeout{60};

class ConnectionBody final : public api::BodySource {
 public:
  ConnectionBody(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                 http::request_parser<http::buffer_body>& parser, bool expect_continue)
      : stream_(stream), buffer_(buffer), parser_(parser), expect_continue_(expect_continue) {}

  std::optional<std::uint64_t> length() const override {
    auto n = parser_.content_length();
    if (!n) return std::nullopt;
    return *n;
  }

  asio::awaitable<void> accept() override {
    if (!expect_continue_) co_return;
    expect_continue_ = false;
    http::response<http::empty_body> cont{http::status::continue_, 11};
    stream_.expires_after(kPieceTimeout);
    co_await http::async_write(stream_, cont, kUseTuple);
  }

  asio::awaitable<Result<std::size_t>> read_some(std::span<char> buf) override {
    while (!parser_.is_done()) {
      auto& body = parser_.get().body();
      body.data = buf.data();
      body.size = buf.size();
      stream_.expires_after(kPieceTimeout);
      auto [ec, n] = co_await http::async_read_some(stream_, buffer_, parser_, kUseTuple);
      if (ec == http::error::need_buffer) ec = {};  // `buf` is full
      if (ec) {
        co_return Error(400, "InvalidRequestBody",
                        "The request body could not be read: " + ec.message());
      }
      const std::size_t got = buf.size() - parser_.get().body().size;
      if (got > 0) co_return got;
    }
    co_return std::size_t{0};
  }

  bool done() const override { return parser_.is_done(); }

 private:
  beast::tcp_stream& stream_;
  beast::flat_buffer& buffer_;
  http::request_parser<http::buffer_body>& parser_;
  bool expect_continue_;
};

asio::awaitable<bool> serve(api::Router& router, beast::tcp_stream& stream,
                            beast::flat_buffer& buffer, HeaderParser& header) {
  auto expect = header.get()[http::field::expect];
  const bool expect_continue =
      text::iequals(std::string_view(expect.data(), expect.size()), "100-continue");
  http::request_parser<http::buffer_body> parser{std::move(header)};
  parser.body_limit(boost::none);  // the route enforces its own limit (--max-package-bytes)
  api::HttpRequest head(parser.get().base());
  const bool keep_alive = head.keep_alive();
  ConnectionBody body(stream, buffer, parser, expect_continue);
  api::HttpResponse response = co_await router.handle_streamed(std::move(head), body);
  if (!body.done()) {
    // Refused before (or while) reading the body: the rest of it cannot be skipped cheaply.
    co_await answer_and_close(stream, std::move(response));
    co_return false;
  }
  response.keep_alive(keep_alive);
  response.prepare_payload();
  stream.expires_after(kPieceTimeout);
  auto [ec, n] = co_await http::async_write(stream, response, kUseTuple);
  co_return !ec && response.keep_alive();
}

}  // namespace

StreamPredicate router_streams() {
  return [](const HeaderParser::value_type& h) {
    return api::Router::streams_body(h.method(),
                                     std::string_view(h.target().data(), h.target().size()));
  };
}

StreamHandler router_stream_handler(api::Router& router) {
  return [&router](beast::tcp_stream& stream, beast::flat_buffer& buffer, HeaderParser& header) {
    return serve(router, stream, buffer, header);
  };
}

}  // namespace openbatch::server
