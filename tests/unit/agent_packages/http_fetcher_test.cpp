// HttpFetcher against a one-shot HTTP server on a thread (blocking Asio): a body larger than
// the fetcher's chunk is streamed to the file, the bearer token is sent, a 404 / a refused
// connection / a truncated body / a silent server are clear Errors that leave no file; and the
// installer works end to end over it.
#include "node_agent/packages/http_fetcher.hpp"

#include "node_agent/packages/package_installer.hpp"
#include "node_agent/packages/sha256_file.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/agent_packages/archive_builder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <thread>

namespace openbatch::agent::packages {
namespace {

namespace asio = boost::asio;
using testing::file_bytes;
namespace fs = std::filesystem;
using openbatch::testing::TempDir;
using Tcp = asio::ip::tcp;

// Accepts one connection, reads the request head, writes `response` verbatim, then (with
// `linger`) waits for the client to close before closing its side.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response, bool linger = false)
      : acceptor_(ioc_, Tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, response = std::move(response), linger] {
      boost::system::error_code ec;
      Tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec) return;
      asio::streambuf head;
      asio::read_until(socket, head, "\r\n\r\n", ec);
      request_ = std::string(asio::buffers_begin(head.data()), asio::buffers_end(head.data()));
      if (!response.empty()) asio::write(socket, asio::buffer(response), ec);
      if (linger) {
        char byte = 0;
        socket.read_some(asio::buffer(&byte, 1), ec);  // until the client gives up
      }
      socket.shutdown(Tcp::socket::shutdown_both, ec);
    });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
  }
  OneShotServer(const OneShotServer&) = delete;
  OneShotServer& operator=(const OneShotServer&) = delete;

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  // The request head; valid once the fetch returned.
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  asio::io_context ioc_;
  Tcp::acceptor acceptor_;
  std::thread thread_;
  std::string request_;
};

std::string ok_response(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

TEST(HttpFetcher, TheBodyIsStreamedToTheFileWithTheBearerToken) {
  std::string body(3 * 1024 * 1024 + 123, '\0');  // several fetcher chunks
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 7919) % 251);
  OneShotServer server(ok_response(body));
  TempDir tmp;
  const auto file = tmp.path() / "pkg.zip.part";
  auto st = HttpFetcher().fetch(server.url("/agent/v1/packages/abc"), "node-token", file);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(file_bytes(file), body);
  const std::string request = server.request();
  EXPECT_TRUE(request.starts_with("GET /agent/v1/packages/abc HTTP/1.1\r\n")) << request;
  EXPECT_NE(request.find("Authorization: Bearer node-token\r\n"), std::string::npos) << request;
}

TEST(HttpFetcher, AChunkedBodyIsSavedToo) {
  OneShotServer server(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  TempDir tmp;
  const auto file = tmp.path() / "f";
  auto st = HttpFetcher().fetch(server.url("/p"), "t", file);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(file_bytes(file), "hello world");
}

TEST(HttpFetcher, A404IsAnErrorWithTheStatusCode) {
  OneShotServer server(
      "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
  TempDir tmp;
  const auto file = tmp.path() / "f";
  const std::string url = server.url("/agent/v1/packages/nope");
  auto st = HttpFetcher().fetch(url, "t", file);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, kPackageDownloadFailed);
  EXPECT_EQ(st.error().message, "downloading " + url + ": the server answered HTTP 404 Not Found");
  EXPECT_FALSE(fs::exists(file));
}

TEST(HttpFetcher, ARefusedConnectionIsAnError) {
  std::string url;
  {
    asio::io_context ioc;
    Tcp::acceptor closed(ioc, Tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    url = "http://127.0.0.1:" + std::to_string(closed.local_endpoint().port()) + "/p";
  }  // the port is free again: nothing listens there
  TempDir tmp;
  auto st = HttpFetcher().fetch(url, "t", tmp.path() / "f");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("cannot connect to 127.0.0.1:"), std::string::npos)
      << st.error().message;
  EXPECT_FALSE(fs::exists(tmp.path() / "f"));
}

TEST(HttpFetcher, ATruncatedBodyIsAnErrorAndTheFileIsRemoved) {
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a little");
  TempDir tmp;
  const auto file = tmp.path() / "f";
  auto st = HttpFetcher().fetch(server.url("/p"), "t", file);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("reading the body"), std::string::npos) << st.error().message;
  EXPECT_FALSE(fs::exists(file));
}

TEST(HttpFetcher, ASilentServerTimesOut) {
  OneShotServer server("", /*linger=*/true);
  HttpFetcherOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  TempDir tmp;
  auto st = HttpFetcher(options).fetch(server.url("/p"), "t", tmp.path() / "f");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("within 200 ms"), std::string::npos) << st.error().message;
}

TEST(HttpFetcher, ABodyAboveTheLimitIsRefused) {
  OneShotServer server(ok_response(std::string(5000, 'x')));
  HttpFetcherOptions options;
  options.max_bytes = 1000;
  TempDir tmp;
  auto st = HttpFetcher(options).fetch(server.url("/p"), "t", tmp.path() / "f");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("larger than 1000 bytes"), std::string::npos)
      << st.error().message;
  EXPECT_FALSE(fs::exists(tmp.path() / "f"));
}

TEST(HttpFetcher, NonHttpUrlsAreRefused) {
  TempDir tmp;
  auto st = HttpFetcher().fetch("https://example.invalid/p", "t", tmp.path() / "f");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("not an http:// URL"), std::string::npos);
}

TEST(HttpFetcher, TheInstallerInstallsOverHttp) {
  TempDir tmp;
  const auto zip = tmp.path() / "p.zip";
  testing::write_archive(zip, {testing::file_entry("run.sh", "echo hi\n", 0755)});
  OneShotServer server(ok_response(file_bytes(zip)));
  protocol::PackageRef ref;
  ref.application_id = "tool";
  ref.version = "1.0";
  ref.sha256 = *sha256_file(zip);
  ref.size = fs::file_size(zip);
  PackageInstaller installer(tmp.path() / "root", server.url(""), HttpFetcher());
  auto dir = installer.install(ref, "node-token");
  ASSERT_TRUE(dir) << dir.error().message;
  EXPECT_EQ(file_bytes(*dir / "run.sh"), "echo hi\n");
  EXPECT_TRUE(server.request().starts_with("GET /agent/v1/packages/" + ref.sha256 + " HTTP/1.1"));
}

}  // namespace
}  // namespace openbatch::agent::packages
