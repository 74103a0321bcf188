// BodySource: a request body read piece by piece, for the routes that must never hold a whole
// body in memory (application package uploads, up to --max-package-bytes). The HTTP server
// hands such requests to the router with their header only (Router::handle_streamed); the
// route authenticates and checks the header first and reads the body only then.
#pragma once

#include "common/error.hpp"
#include "scheduler/packages/blob_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace openbatch::api {

// Its length() is the Content-Length (nullopt: chunked); read_some ends with 0 once the body
// is complete, or an Error when the connection fails or the body is malformed (the connection
// is then closed).
class BodySource : public packages::ByteStream {
 public:
  // The route will read the body: answers "Expect: 100-continue" if the client asked.
  virtual boost::asio::awaitable<void> accept() { co_return; }
  // True once the whole body has been read (the connection can serve another request).
  virtual bool done() const = 0;
};

// A body already in memory (requests the server read whole, and the tests' harness).
class StringBodySource final : public BodySource {
 public:
  explicit StringBodySource(const std::string& body) : body_(body) {}
  std::optional<std::uint64_t> length() const override { return body_.size(); }
  boost::asio::awaitable<Result<std::size_t>> read_some(std::span<char> buf) override {
    const std::size_t n = std::min(buf.size(), body_.size() - offset_);
    body_.copy(buf.data(), n, offset_);
    offset_ += n;
    co_return n;
  }
  bool done() const override { return offset_ == body_.size(); }

 private:
  const std::string& body_;
  std::size_t offset_ = 0;
};

}  // namespace openbatch::api
