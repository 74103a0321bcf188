// HttpClient/BatchClient against a Beast server on 127.0.0.1 (port 0) that checks every
// request's SharedKey signature with auth::verify: signing, keep-alive, reconnects, timeouts.
#include "common/http/client.hpp"

#include "common/auth/shared_key.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

namespace openbatch::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr std::string_view kAccount = "myaccount";
constexpr std::string_view kKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

// What the server saw of one request.
struct Seen {
  std::string method;
  std::string target;
  std::string body;
  std::string content_type;
  std::string content_length;  // "(absent)" when there was none
  std::string ocp_date;
};

// A one-thread HTTP/1.1 server. Each request is verified as the scheduler would and answered
// 200 (body: the request body) or with the verification error's status and code.
class LoopbackServer {
 public:
  enum class AfterResponse {
    KeepAlive,
    DropSilently,  // close without saying so, as a server does to an idle connection
    SayClose,      // answer "Connection: close", then close
  };

  explicit LoopbackServer(AfterResponse after = AfterResponse::KeepAlive) : after_(after) {
    acceptor_.open(Tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }

  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  ~LoopbackServer() {
    ioc_.stop();
    thread_.join();
  }

  std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  int accepted() const { return accepted_.load(); }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

  bhttp::response<bhttp::string_body> answer(const bhttp::request<bhttp::string_body>& req) {
    record(req);
    std::vector<auth::HeaderField> fields;
    for (const auto& f : req) {
      fields.push_back(
          {{f.name_string().data(), f.name_string().size()}, {f.value().data(), f.value().size()}});
    }
    const auth::RequestView view{{req.method_string().data(), req.method_string().size()},
                                 {req.target().data(), req.target().size()},
                                 fields};
    const auto credential = auth::SharedKeyCredential::from_base64(std::string(kAccount), kKey);
    const auth::SharedKeyCredential accepted[] = {*credential};
    const auto verdict = auth::verify(view, accepted, std::chrono::system_clock::now());

    bhttp::response<bhttp::string_body> res{
        verdict ? bhttp::status::ok : static_cast<bhttp::status>(verdict.error().status), 11};
    res.set(bhttp::field::content_type, "application/json;odata=minimalmetadata");
    res.body() = verdict ? req.body() : verdict.error().code;
    res.keep_alive(req.keep_alive() && after_ != AfterResponse::SayClose);
    res.prepare_payload();
    // As a real resource answers HEAD: the length of the entity, but no body.
    if (req.method() == bhttp::verb::head) res.content_length(42);
    return res;
  }

 private:
  void record(const bhttp::request<bhttp::string_body>& req) {
    const auto field = [&req](bhttp::field f, std::string_view absent = "") {
      const auto it = req.find(f);
      return it == req.end() ? std::string(absent) : std::string(it->value());
    };
    std::lock_guard lock(mu_);
    seen_.push_back(Seen{std::string(req.method_string()), std::string(req.target()), req.body(),
                         field(bhttp::field::content_type),
                         field(bhttp::field::content_length, "(absent)"),
                         std::string(req["ocp-date"])});
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++accepted_;
      asio::co_spawn(ioc_, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(Tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      auto [rec, rn] =
          co_await bhttp::async_read(socket, buffer, req, asio::as_tuple(asio::use_awaitable));
      if (rec) co_return;
      auto res = answer(req);
      auto [wec, wn] =
          co_await bhttp::async_write(socket, res, asio::as_tuple(asio::use_awaitable));
      if (wec || after_ != AfterResponse::KeepAlive || !res.keep_alive()) {
        beast::error_code ignored;
        socket.shutdown(Tcp::socket::shutdown_both, ignored);
        co_return;
      }
    }
  }

  AfterResponse after_;
  asio::io_context ioc_{1};
  Tcp::acceptor acceptor_{ioc_};
  std::thread thread_;
  std::atomic<int> accepted_{0};
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

TEST(BatchClientRoundTrip, SignedGetWithQueryIsVerifiedByTheServer) {
  LoopbackServer server;
  BatchClient client(server.base_url(), std::string(kAccount), kKey);
  ASSERT_TRUE(client.valid());
  auto res = client.request("GET", "/pools?$filter=state%20eq%20%27active%27&maxresults=10");
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->header("content-type"), "application/json;odata=minimalmetadata");
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target,
            "/pools?$filter=state%20eq%20%27active%27&maxresults=10&api-version=2022-10-01.16.0");
  EXPECT_EQ(seen[0].content_type, kJsonContentType);
  EXPECT_EQ(seen[0].content_length, "(absent)");
  EXPECT_FALSE(seen[0].ocp_date.empty());
}

TEST(BatchClientRoundTrip, SignedPostWithBodyIsVerifiedAndEchoed) {
  LoopbackServer server;
  BatchClient client(server.base_url(), std::string(kAccount), kKey);
  const std::string body = R"({"id":"task1","commandLine":"/bin/sh -c \"echo hello\""})";
  auto res = client.request("POST", "/jobs/job1/tasks?api-version=2022-10-01.16.0", body);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->body, body);
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/jobs/job1/tasks?api-version=2022-10-01.16.0");
  EXPECT_EQ(seen[0].content_type, kJsonBodyContentType);
  EXPECT_EQ(seen[0].content_length, "56");
}

TEST(BatchClientRoundTrip, FileBodyIsStreamedWithItsLengthAndSigned) {
  LoopbackServer server;
  BatchClient client(server.base_url(), std::string(kAccount), kKey);
  testing::TempDir dir;
  std::string bytes(512 << 10, '\0');  // the loopback server reads at most 1 MiB
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  std::ofstream(dir.file("pkg.zip"), std::ios::binary) << bytes;
  auto res = client.request_file("PUT", "/applications/a/versions/1", dir.file("pkg.zip"),
                                 {{"Content-Type", "application/zip"}});
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200) << res->body.substr(0, 200);
  EXPECT_TRUE(res->body == bytes);
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].content_type, "application/zip");
  EXPECT_EQ(seen[0].content_length, std::to_string(bytes.size()));
  // The same client goes on with string bodies.
  auto next = client.request("POST", "/jobs/job1/terminate");
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(server.seen().at(1).content_length, "0");
  EXPECT_EQ(client.http().connections_opened(), 1u);

  auto missing = client.request_file("PUT", "/x", dir.file("nope.zip"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, kInvalidRequest);
}

TEST(BatchClientRoundTrip, BodylessPostSendsAndSignsZeroLength) {
  LoopbackServer server;
  BatchClient client(server.base_url(), std::string(kAccount), kKey);
  auto res = client.request("POST", "/jobs/job1/terminate");
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(server.seen().at(0).content_length, "0");
}

TEST(BatchClientRoundTrip, WrongKeyIsAnHttpAnswerNotATransportError) {
  LoopbackServer server;
  BatchClient client(server.base_url(), std::string(kAccount), "b3RoZXIta2V5");
  auto res = client.request("GET", "/pools");
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(res->body, "AuthenticationFailed");
}

TEST(BatchClientRoundTrip, ExtraHeadersAreSentSignedAndOverrideDefaults) {
  LoopbackServer server;
  BatchClient client(server.base_url(), std::string(kAccount), kKey);
  auto res = client.request("GET", "/jobs/j/tasks/t/files/wd%2Fout.txt", {},
                            {{"ocp-range", "bytes=0-9"}, {"Content-Type", "application/json"}});
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(server.seen().at(0).content_type, "application/json");
  EXPECT_EQ(server.seen().at(0).target,
            "/jobs/j/tasks/t/files/wd%2Fout.txt?api-version=2022-10-01.16.0");
}

TEST(BatchClientRoundTrip, AbsoluteNextLinkIsFollowedOnTheSameConnection) {
  LoopbackServer server;
  BatchClient client(server.base_url(), std::string(kAccount), kKey);
  ASSERT_TRUE(client.request("GET", "/pools"));
  auto res =
      client.request("GET",
                     "https://myaccount.westus.batch.azure.com/pools?api-version=2022-10-01.16.0"
                     "&%24skiptoken=abc%2B1");
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(server.seen().at(1).target, "/pools?api-version=2022-10-01.16.0&%24skiptoken=abc%2B1");
  EXPECT_EQ(server.accepted(), 1);
}

TEST(BatchClientRoundTrip, OcpDateComesFromTheConfiguredClock) {
  struct HourBehind final : Clock {
    TimePoint now() const override { return std::chrono::system_clock::now() - 1h; }
  } clock;
  LoopbackServer server;
  ClientOptions options;
  options.clock = &clock;
  BatchClient client(server.base_url(), std::string(kAccount), kKey, options);
  auto res = client.request("GET", "/pools");
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 403);  // the server refuses a request an hour old
  EXPECT_EQ(res->body, "AuthenticationFailed");
}

TEST(BatchClientRoundTrip, HeadReturnsWithoutWaitingForABody) {
  LoopbackServer server;
  ClientOptions options;
  options.timeout = 5s;
  BatchClient client(server.base_url(), std::string(kAccount), kKey, options);
  auto res = client.request("HEAD", "/pools/p1");
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body.empty());
  auto next = client.request("GET", "/pools/p1");  // the connection is still in sync
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpClientConnection, KeepsOneConnectionAcrossRequests) {
  LoopbackServer server;
  BatchClient client(server.base_url(), std::string(kAccount), kKey);
  for (int i = 0; i < 20; ++i) {
    auto res = client.request(i % 2 ? "GET" : "POST", "/jobs", i % 2 ? "" : R"({"id":"j"})");
    ASSERT_TRUE(res) << res.error().message;
    ASSERT_EQ(res->status, 200) << res->body;
  }
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(client.http().connections_opened(), 1u);
}

TEST(HttpClientConnection, ReconnectsWhenTheServerClosedTheIdleConnection) {
  LoopbackServer server(LoopbackServer::AfterResponse::DropSilently);
  BatchClient client(server.base_url(), std::string(kAccount), kKey);
  for (int i = 0; i < 3; ++i) {
    // Give the server's FIN time to arrive, as it would on an idle connection.
    std::this_thread::sleep_for(20ms);
    auto res = client.request("POST", "/jobs", R"({"id":"j"})");
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(res->status, 200) << res->body;
  }
  EXPECT_EQ(server.accepted(), 3);
  EXPECT_EQ(server.seen().size(), 3u);  // nothing was sent twice
}

TEST(HttpClientConnection, ReplaysAGetThatMetAConnectionClosedUnderIt) {
  LoopbackServer server(LoopbackServer::AfterResponse::DropSilently);
  BatchClient client(server.base_url(), std::string(kAccount), kKey);
  for (int i = 0; i < 5; ++i) {  // no pause: the close may race the next request
    auto res = client.request("GET", "/pools");
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(res->status, 200) << res->body;
  }
  EXPECT_EQ(server.seen().size(), 5u);
}

TEST(HttpClientConnection, ConnectionCloseAnswerIsHonoured) {
  LoopbackServer server(LoopbackServer::AfterResponse::SayClose);
  BatchClient client(server.base_url(), std::string(kAccount), kKey);
  for (int i = 0; i < 3; ++i) {
    auto res = client.request("POST", "/jobs", R"({"id":"j"})");
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(res->header("Connection"), "close");
  }
  EXPECT_EQ(client.http().connections_opened(), 3u);
  EXPECT_EQ(server.seen().size(), 3u);
}

TEST(HttpClientErrors, RefusedConnectionIsConnectFailed) {
  asio::io_context ioc;
  Tcp::acceptor probe(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = probe.local_endpoint().port();
  probe.close();  // nothing listens there now
  BatchClient client("http://127.0.0.1:" + std::to_string(port), std::string(kAccount), kKey);
  auto res = client.request("GET", "/pools");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, kConnectFailed);
  EXPECT_EQ(res.error().status, 0);
}

TEST(HttpClientErrors, SilentServerTimesOutAtTheDeadline) {
  asio::io_context ioc;
  // Listening but never accepting: the kernel completes the handshake, nobody answers.
  Tcp::acceptor silent(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  ClientOptions options;
  options.timeout = 200ms;
  BatchClient client("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()),
                     std::string(kAccount), kKey, options);
  const auto start = std::chrono::steady_clock::now();
  auto res = client.request("GET", "/pools");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, kRequestTimedOut);
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 3s);
}

TEST(HttpClientErrors, BadBaseUrlKeyTargetOrHeaderAreReportedBeforeSending) {
  EXPECT_EQ(BatchClient("not a url", "a", kKey).valid().error().code, kInvalidUrl);
  EXPECT_EQ(BatchClient("https://host", "a", kKey).valid().error().code, kInvalidUrl);
  EXPECT_EQ(BatchClient("http://127.0.0.1:1", "a", "!!").valid().error().code, kInvalidAccountKey);
  BatchClient client("http://127.0.0.1:1", "a", kKey);
  auto spaced = client.request("GET", "/pools?$filter=state eq 'x'");
  ASSERT_FALSE(spaced);
  EXPECT_EQ(spaced.error().code, kInvalidRequest);
  auto injected = client.request("GET", "/pools", {}, {{"x-note", "a\r\nInjected: 1"}});
  ASSERT_FALSE(injected);
  EXPECT_EQ(injected.error().code, kInvalidRequest);
}

TEST(HttpClientHelpers, ApiVersionIsAddedOnlyWhenAbsent) {
  EXPECT_EQ(with_api_version("/pools"), "/pools?api-version=2022-10-01.16.0");
  EXPECT_EQ(with_api_version("/pools?maxresults=5"),
            "/pools?maxresults=5&api-version=2022-10-01.16.0");
  EXPECT_EQ(with_api_version("/pools?"), "/pools?api-version=2022-10-01.16.0");
  EXPECT_EQ(with_api_version("/pools?API-Version=2023-05-01.17.0"),
            "/pools?API-Version=2023-05-01.17.0");
  EXPECT_EQ(with_api_version("/pools?x-api-version=1", "v"),
            "/pools?x-api-version=1&api-version=v");
}

TEST(HttpClientHelpers, ResponseHeadersAreCaseInsensitive) {
  HttpResponse r;
  r.headers.emplace("ETag", "0x1");
  EXPECT_EQ(r.header("etag"), "0x1");
  EXPECT_EQ(r.header("ETAG"), "0x1");
  EXPECT_EQ(r.header("missing"), "");
}

}  // namespace
}  // namespace openbatch::http
