// SharedKey signing and verification against the worked examples of batch-api.md section 9
// and the refusals the API must produce.
#include "common/auth/shared_key.hpp"

#include "common/http_date.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace openbatch::auth {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kAccount = "myaccount";
constexpr std::string_view kKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
constexpr std::string_view kDate = "Fri, 17 Feb 2017 00:00:00 GMT";
constexpr std::string_view kJsonPlain = "application/json; charset=utf-8";
constexpr std::string_view kJsonOdata = "application/json; odata=minimalmetadata; charset=utf-8";

// Owns a request's strings and hands out the views the API takes.
struct TestRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> header_values;
  std::vector<HeaderField> fields;

  TestRequest(std::string m, std::string t, std::vector<std::pair<std::string, std::string>> h)
      : method(std::move(m)), target(std::move(t)), header_values(std::move(h)) {}

  void set(std::string name, std::string value) {
    header_values.emplace_back(std::move(name), std::move(value));
  }

  RequestView view() {
    fields.clear();
    for (const auto& [n, v] : header_values) fields.push_back({n, v});
    return RequestView{method, target, fields};
  }
};

SharedKeyCredential credential() {
  auto c = SharedKeyCredential::from_base64(std::string(kAccount), kKey);
  EXPECT_TRUE(c);
  return *c;
}

TimePoint example_time() { return *parse_http_date(kDate); }

TestRequest example_a() {
  return TestRequest("GET",
                     "/pools?api-version=2022-10-01.16.0&$filter=state%20eq%20%27active%27"
                     "&maxresults=10",
                     {{"Content-Type", std::string(kJsonPlain)},
                      {"ocp-date", std::string(kDate)},
                      {"client-request-id", "9c4d50ee-2d56-4cd3-8152-34347dc9f2b0"}});
}

TestRequest example_b() {
  return TestRequest("POST", "/jobs/job1/tasks?api-version=2022-10-01.16.0",
                     {{"Content-Length", "56"},
                      {"Content-Type", std::string(kJsonOdata)},
                      {"ocp-date", std::string(kDate)}});
}

TestRequest example_c(std::optional<std::string> content_length) {
  TestRequest r("POST", "/jobs/job1/terminate?api-version=2022-10-01.16.0",
                {{"Content-Type", std::string(kJsonOdata)}, {"ocp-date", std::string(kDate)}});
  if (content_length) r.set("Content-Length", *content_length);
  return r;
}

Status verify_with(TestRequest& r, std::string authorization, TimePoint now = example_time()) {
  r.set("Authorization", std::move(authorization));
  const SharedKeyCredential accepted[] = {credential()};
  return verify(r.view(), accepted, now);
}

TEST(SharedKeyExamples, ExampleAGetWithQueryMatchesTheSdkSignature) {
  auto r = example_a();
  EXPECT_EQ(string_to_sign(r.view(), kAccount),
            "GET\n\n\n\n\napplication/json; charset=utf-8\n\n\n\n\n\n\n"
            "ocp-date:Fri, 17 Feb 2017 00:00:00 GMT\n/myaccount/pools\n$filter:state eq 'active'"
            "\napi-version:2022-10-01.16.0\nmaxresults:10");
  EXPECT_EQ(sign(r.view(), credential()),
            "SharedKey myaccount:sxPlUHEjTLTAUf/5GpNysreuNVZjJVK+hN1CWFf0eYI=");
}

TEST(SharedKeyExamples, ExampleBPostWithBodyMatchesTheSdkSignature) {
  auto r = example_b();
  EXPECT_EQ(string_to_sign(r.view(), kAccount),
            "POST\n\n\n56\n\napplication/json; odata=minimalmetadata; charset=utf-8\n\n\n\n\n\n\n"
            "ocp-date:Fri, 17 Feb 2017 00:00:00 GMT\n/myaccount/jobs/job1/tasks\n"
            "api-version:2022-10-01.16.0");
  EXPECT_EQ(sign(r.view(), credential()),
            "SharedKey myaccount:xMiOdHM62oNC63FTTp44BX8kMLeaSH45jUDdxYZKo0s=");
}

TEST(SharedKeyExamples, ExampleCBodylessPostIsSignedWithZeroLengthLikeTheJsSdk) {
  auto with_header = example_c("0");
  auto without_header = example_c(std::nullopt);
  const std::string js = "SharedKey myaccount:UQtY7JyeMlvNmQbe2ALx4+Icq9MBlHpa6rc8xIZrskU=";
  EXPECT_EQ(sign(with_header.view(), credential()), js);
  EXPECT_EQ(sign(without_header.view(), credential()), js);
}

TEST(SharedKeyExamples, ExampleCIsAcceptedWithZeroOrEmptyLengthSlot) {
  for (const auto& length : {std::optional<std::string>("0"), std::optional<std::string>()}) {
    for (const char* sig : {"UQtY7JyeMlvNmQbe2ALx4+Icq9MBlHpa6rc8xIZrskU=",
                            "6oV8AJY0QJKx+qmP+5efg4NrgBxSifeguS+NLRJFSmg="}) {
      auto r = example_c(length);
      EXPECT_TRUE(verify_with(r, std::string("SharedKey myaccount:") + sig))
          << "length " << length.value_or("(absent)") << " sig " << sig;
    }
  }
}

TEST(SharedKeyVerify, AcceptsExamplesAAndB) {
  auto a = example_a();
  auto b = example_b();
  EXPECT_TRUE(verify_with(a, "SharedKey myaccount:sxPlUHEjTLTAUf/5GpNysreuNVZjJVK+hN1CWFf0eYI="));
  EXPECT_TRUE(verify_with(b, "SharedKey myaccount:xMiOdHM62oNC63FTTp44BX8kMLeaSH45jUDdxYZKo0s="));
}

TEST(SharedKeyVerify, EmptyLengthSlotIsNotAcceptedForABodyOfNonZeroLength) {
  auto r = example_b();
  r.header_values[0].second = "";
  const std::string empty_slot_sig = sign(r.view(), credential());
  auto b = example_b();
  EXPECT_FALSE(verify_with(b, empty_slot_sig));
}

TEST(SharedKeyVerify, WrongKeyFailsWithTheServerStringToSign) {
  auto r = example_a();
  const auto other = SharedKeyCredential::from_base64("myaccount", "b3RoZXIta2V5");
  ASSERT_TRUE(other);
  auto result = verify_with(r, sign(r.view(), *other));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().status, 403);
  EXPECT_EQ(result.error().code, "AuthenticationFailed");
  const std::string detail = result.error().detail("AuthenticationErrorDetail");
  EXPECT_NE(detail.find("GET\n\n\n\n\napplication/json; charset=utf-8\n"), std::string::npos);
  EXPECT_NE(detail.find("/myaccount/pools\n$filter:state eq 'active'"), std::string::npos);
}

TEST(SharedKeyVerify, TamperedRequestFails) {
  auto r = example_b();
  const std::string auth = sign(r.view(), credential());
  r.target = "/jobs/job2/tasks?api-version=2022-10-01.16.0";
  auto result = verify_with(r, auth);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "AuthenticationFailed");
}

TEST(SharedKeyVerify, MissingAuthorizationIsAuthenticationFailed) {
  auto r = example_a();
  const SharedKeyCredential accepted[] = {credential()};
  auto result = verify(r.view(), accepted, example_time());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().status, 403);
  EXPECT_EQ(result.error().code, "AuthenticationFailed");
}

TEST(SharedKeyVerify, MalformedAuthorizationIsInvalidAuthenticationInfo) {
  for (const char* bad : {"SharedKey myaccount", "SharedKey myaccount:", "SharedKey :sig",
                          "Bearer eyJ0eXAi", "SharedKeymyaccount:sig", ""}) {
    auto r = example_a();
    auto result = verify_with(r, bad);
    ASSERT_FALSE(result) << bad;
    EXPECT_EQ(result.error().status, 400) << bad;
    EXPECT_EQ(result.error().code, "InvalidAuthenticationInfo") << bad;
  }
}

TEST(SharedKeyVerify, UnknownAccountIsAuthenticationFailed) {
  auto r = example_a();
  auto other = credential();
  other.account = "otheraccount";
  auto result = verify_with(r, sign(r.view(), other));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().status, 403);
  EXPECT_EQ(result.error().code, "AuthenticationFailed");
}

TEST(SharedKeyVerify, AnyOfSeveralKeysOfTheAccountIsAccepted) {
  auto r = example_a();
  const std::string auth = sign(r.view(), credential());
  r.set("Authorization", auth);
  auto secondary = credential();
  auto primary = credential();
  primary.key = "a different primary key";
  const SharedKeyCredential accepted[] = {primary, secondary};
  EXPECT_TRUE(verify(r.view(), accepted, example_time()));
}

TEST(SharedKeyVerify, ClockSkewBeyondFifteenMinutesFails) {
  const std::string auth = "SharedKey myaccount:sxPlUHEjTLTAUf/5GpNysreuNVZjJVK+hN1CWFf0eYI=";
  auto within = example_a();
  EXPECT_TRUE(verify_with(within, auth, example_time() + 15min));
  auto late = example_a();
  auto result = verify_with(late, auth, example_time() + 15min + 1s);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().status, 403);
  EXPECT_EQ(result.error().code, "AuthenticationFailed");
  auto early = example_a();
  EXPECT_FALSE(verify_with(early, auth, example_time() - 16min));
}

// Found by fuzz/fuzz_shared_key: the skew was computed as a difference of nanosecond time
// points, which overflowed for a date centuries away and let a request dated 1700 through.
TEST(SharedKeyVerify, ADateCenturiesAwayFailsEvenWhenSigned) {
  for (const char* date : {"Mon, 01 Jan 1700 00:00:00 GMT", "Fri, 17 Feb 1687 00:00:00 GMT",
                           "Sat, 01 Jan 2261 00:00:00 GMT"}) {
    auto r = TestRequest("GET", "/pools?api-version=2022-10-01.16.0", {{"ocp-date", date}});
    auto result = verify_with(r, sign(r.view(), credential()));
    ASSERT_FALSE(result) << date;
    EXPECT_EQ(result.error().status, 403) << date;
    EXPECT_EQ(result.error().code, "AuthenticationFailed") << date;
  }
}

TEST(SharedKeyVerify, MissingOrUnparseableDateFails) {
  auto no_date = TestRequest("GET", "/pools?api-version=2022-10-01.16.0", {});
  auto result = verify_with(no_date, sign(no_date.view(), credential()));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "AuthenticationFailed");

  auto bad_date =
      TestRequest("GET", "/pools?api-version=2022-10-01.16.0", {{"ocp-date", "yesterday"}});
  EXPECT_FALSE(verify_with(bad_date, sign(bad_date.view(), credential())));
}

TEST(SharedKeyVerify, DateHeaderAloneIsSignedInItsSlot) {
  auto r = TestRequest("GET", "/pools?api-version=2022-10-01.16.0", {{"Date", std::string(kDate)}});
  EXPECT_EQ(string_to_sign(r.view(), kAccount),
            "GET\n\n\n\n\n\n" + std::string(kDate) +
                "\n\n\n\n\n\n/myaccount/pools\napi-version:2022-10-01.16.0");
  EXPECT_TRUE(verify_with(r, sign(r.view(), credential())));
}

TEST(SharedKeyVerify, DateSlotLeftEmptyBesideOcpDateIsAccepted) {
  // Signed by a client that never saw the Date header a proxy added later.
  auto r = example_a();
  const std::string auth = sign(r.view(), credential());
  r.set("Date", std::string(kDate));
  EXPECT_TRUE(verify_with(r, auth));
}

TEST(SharedKeyCanonicalResource, EncodedPathIsSignedRaw) {
  auto r = TestRequest("GET", "/jobs/j1/tasks/t1/files/wd%2Fout%20put.txt?api-version=1", {});
  const std::string s = string_to_sign(r.view(), kAccount);
  EXPECT_TRUE(s.ends_with("\n/myaccount/jobs/j1/tasks/t1/files/wd%2Fout%20put.txt\napi-version:1"))
      << s;
}

TEST(SharedKeyCanonicalResource, QueryNamesAreLowercasedSortedWithDollarFirst) {
  auto r = TestRequest("GET",
                       "/pools?timeOut=30&MaxResults=5&%24select=id&$filter=a+eq+%27b%27&"
                       "api-version=1",
                       {});
  const std::string s = string_to_sign(r.view(), kAccount);
  EXPECT_TRUE(
      s.ends_with("/myaccount/pools\n$filter:a eq 'b'\n$select:id\napi-version:1\n"
                  "maxresults:5\ntimeout:30"))
      << s;
}

TEST(SharedKeyCanonicalResource, RepeatedNamesJoinAndEmptyValuesKeepTheirName) {
  auto r = TestRequest("GET", "/pools?b=2&a=&b=1&c", {});
  const std::string s = string_to_sign(r.view(), kAccount);
  EXPECT_TRUE(s.ends_with("/myaccount/pools\na:\nb:2,1\nc:")) << s;
}

TEST(SharedKeyCanonicalResource, AbsoluteTargetIsReducedToPathAndQuery) {
  auto absolute =
      TestRequest("GET", "http://127.0.0.1:8080/pools?api-version=1&%24skiptoken=x%2By", {});
  auto origin = TestRequest("GET", "/pools?api-version=1&%24skiptoken=x%2By", {});
  EXPECT_EQ(string_to_sign(absolute.view(), kAccount), string_to_sign(origin.view(), kAccount));
  auto root = TestRequest("GET", "http://host", {});
  EXPECT_TRUE(string_to_sign(root.view(), kAccount).ends_with("\n/myaccount/"));
}

TEST(SharedKeyCanonicalHeaders, OcpHeadersAreLowercasedSortedTrimmedAndEmptyOnesSkipped) {
  auto r = TestRequest("GET", "/pools",
                       {{"OCP-Range", " bytes=0-9 "},
                        {"ocp-date", std::string(kDate)},
                        {"ocp-empty", ""},
                        {"client-request-id", "x"},
                        {"return-client-request-id", "true"}});
  EXPECT_EQ(string_to_sign(r.view(), kAccount),
            "GET\n\n\n\n\n\n\n\n\n\n\n\nocp-date:" + std::string(kDate) +
                "\nocp-range:bytes=0-9\n/myaccount/pools");
}

TEST(SharedKeyCredentialTest, MalformedBase64KeyIsRejected) {
  auto bad = SharedKeyCredential::from_base64("a", "not base64!");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "InvalidBase64Value");
  auto good = SharedKeyCredential::from_base64("a", kKey);
  ASSERT_TRUE(good);
  EXPECT_EQ(good->key, "0123456789abcdef0123456789abcdef");
}

}  // namespace
}  // namespace openbatch::auth
