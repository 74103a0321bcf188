#include "scheduler/server/connection_policy.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

namespace openbatch::server {
namespace {

namespace http = boost::beast::http;
using std::chrono::milliseconds;

TEST(ConnectionCap, LeavesAReserveForTheDatabaseBlobsAndAgents) {
  EXPECT_EQ(default_connection_cap(128), 80u);    // 48 kept back
  EXPECT_EQ(default_connection_cap(1024), 896u);  // an eighth kept back
  EXPECT_EQ(default_connection_cap(65536), 57344u);
  EXPECT_EQ(default_connection_cap(40), 16u);  // never below the floor
  for (std::uint64_t limit : {64u, 128u, 1024u}) {
    // Refusals (503 answers) borrow from the reserve, never all of it.
    EXPECT_LT(refusal_slots(limit), fd_reserve(limit) / 2) << limit;
    EXPECT_GE(refusal_slots(limit), 4u);
  }
}

TEST(ConnectionToClose, IsTheLongestIdleThatIsNeitherBusyNorClosing) {
  std::vector<ConnectionState> c = {
      {false, false, 30}, {true, false, 5}, {false, true, 1}, {false, false, 20}};
  EXPECT_EQ(pick_connection_to_close(c), 3u);
  c[3].closing = true;
  EXPECT_EQ(pick_connection_to_close(c), 0u);
  c[0].busy = true;
  EXPECT_EQ(pick_connection_to_close(c), std::nullopt);
  EXPECT_EQ(pick_connection_to_close({}), std::nullopt);
}

TEST(AcceptBackoff, DoublesFromTheMinimumToTheMaximumAndResetsOnSuccess) {
  AcceptBackoff backoff(milliseconds(10), milliseconds(1000));
  std::vector<long> waits;
  for (int i = 0; i < 9; ++i) waits.push_back(backoff.failed().count());
  EXPECT_EQ(waits, (std::vector<long>{10, 20, 40, 80, 160, 320, 640, 1000, 1000}));
  backoff.succeeded();
  EXPECT_EQ(backoff.failed(), milliseconds(10));
}

TEST(LogThrottle, OneLinePerIntervalCountingTheEventsBetween) {
  LogThrottle throttle(std::chrono::seconds(10));
  const auto t0 = LogThrottle::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_EQ(throttle.note(t0), 1u);  // the first is reported at once
  std::size_t reported = 0;
  for (int i = 1; i <= 1000; ++i)
    reported += throttle.note(t0 + milliseconds(i));  // within the interval
  EXPECT_EQ(reported, 0u);
  EXPECT_EQ(throttle.note(t0 + std::chrono::seconds(10)), 1001u);  // 1000 held back plus this one
  EXPECT_EQ(throttle.note(t0 + std::chrono::seconds(11)), 0u);
  EXPECT_EQ(throttle.note(t0 + std::chrono::seconds(30)), 2u);
}

TEST(AcceptErrors, LackOfFdsBacksOffAndOneFailedConnectionDoesNot) {
  auto sys = [](int e) { return boost::system::error_code(e, boost::system::system_category()); };
  EXPECT_EQ(classify_accept_error(sys(EMFILE)), AcceptFailure::exhausted);
  EXPECT_EQ(classify_accept_error(sys(ENFILE)), AcceptFailure::exhausted);
  EXPECT_EQ(classify_accept_error(sys(ENOBUFS)), AcceptFailure::exhausted);
  EXPECT_EQ(classify_accept_error(sys(ENOMEM)), AcceptFailure::exhausted);
  EXPECT_EQ(classify_accept_error(boost::asio::error::no_descriptors), AcceptFailure::exhausted);
  EXPECT_EQ(classify_accept_error(sys(ECONNABORTED)), AcceptFailure::transient);
  EXPECT_EQ(classify_accept_error(boost::asio::error::operation_aborted), AcceptFailure::stopped);
  // An unknown failure must not spin either.
  EXPECT_EQ(classify_accept_error(sys(EIO)), AcceptFailure::exhausted);
}

TEST(ReadErrors, EveryParseErrorGetsAnAnswerAndAClosedPeerNone) {
  using http::error;
  using http::status;
  auto status_of = [](error e) { return answer_for_read_error(http::make_error_code(e))->status; };
  EXPECT_EQ(status_of(error::header_limit), status::request_header_fields_too_large);
  EXPECT_EQ(status_of(error::body_limit), status::payload_too_large);
  for (error e : {error::bad_line_ending, error::bad_method, error::bad_target, error::bad_version,
                  error::bad_field, error::bad_value, error::bad_content_length,
                  error::multiple_content_length, error::bad_transfer_encoding, error::bad_chunk,
                  error::bad_chunk_extension, error::bad_obs_fold}) {
    EXPECT_EQ(status_of(e), status::bad_request) << http::make_error_code(e).message();
  }
  EXPECT_EQ(answer_for_read_error(http::make_error_code(error::end_of_stream)), std::nullopt);
  EXPECT_EQ(answer_for_read_error(http::make_error_code(error::partial_message)), std::nullopt);
  EXPECT_EQ(answer_for_read_error(boost::asio::error::operation_aborted), std::nullopt);
  EXPECT_EQ(answer_for_read_error(boost::asio::error::connection_reset), std::nullopt);
  EXPECT_EQ(answer_for_read_error(http::make_error_code(error::bad_content_length))->code,
            "InvalidHeaderValue");
}

TEST(Versions, OnlyMajorOneIsServed) {
  EXPECT_EQ(answer_for_version(10), std::nullopt);
  EXPECT_EQ(answer_for_version(11), std::nullopt);
  EXPECT_EQ(answer_for_version(20)->status, http::status::http_version_not_supported);
  EXPECT_EQ(answer_for_version(9)->status, http::status::http_version_not_supported);
  EXPECT_EQ(answer_for_bad_version("GET /pools HTTP/2.0\r\nHost: x\r\n\r\n").status,
            http::status::http_version_not_supported);
  EXPECT_EQ(answer_for_bad_version("GET / HTTP/3.0\r\n").status,
            http::status::http_version_not_supported);
  EXPECT_EQ(answer_for_bad_version("GET /pools\r\n\r\n").status,
            http::status::bad_request);  // HTTP/0.9
  EXPECT_EQ(answer_for_bad_version("GET / HTTP/1.x\r\n").status, http::status::bad_request);
  EXPECT_EQ(answer_for_bad_version("GET / HTTP/2.0").status,
            http::status::bad_request);  // no line end yet
  EXPECT_EQ(request_timeout_answer().status, http::status::request_timeout);
  EXPECT_EQ(server_busy_answer().code, "ServerBusy");
}

}  // namespace
}  // namespace openbatch::server
