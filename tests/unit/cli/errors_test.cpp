// Azure error replies become Errors, and Errors print as one "error: ..." line.
#include "cli/errors.hpp"

#include <gtest/gtest.h>

namespace openbatch::cli {
namespace {

constexpr std::string_view kVmSizeReply = R"({
  "odata.metadata":"http://h/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element",
  "code":"InvalidPropertyValue",
  "message":{"lang":"en-US","value":"The value provided for one of the properties in the request body is invalid.\nRequestId:abc\nTime:2024-01-01T00:00:00.0000000Z"},
  "values":[{"key":"PropertyName","value":"vmSize"},{"key":"PropertyValue","value":"Standard_X"},
            {"key":"Reason","value":"Not in the catalog."}]})";

TEST(ErrorReply, KeepsCodeFirstMessageLineAndValues) {
  const Error e = error_from_reply(400, kVmSizeReply);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "InvalidPropertyValue");
  EXPECT_EQ(e.message,
            "The value provided for one of the properties in the request body is invalid.");
  ASSERT_EQ(e.values.size(), 3u);
  EXPECT_EQ(e.detail("PropertyValue"), "Standard_X");
}

TEST(ErrorReply, PrintsStatusCodeMessageAndNamedValues) {
  EXPECT_EQ(format_error(error_from_reply(400, kVmSizeReply)),
            "error: 400 InvalidPropertyValue: The value provided for one of the properties in the "
            "request body is invalid. (vmSize=Standard_X, Reason=Not in the catalog.)");
}

TEST(ErrorReply, NameWithoutValueAndQueryPairsPrintReadably) {
  const Error missing(400, "MissingRequiredProperty", "A required property was not specified.",
                      {{"PropertyName", "vmSize"}});
  EXPECT_EQ(format_error(missing),
            "error: 400 MissingRequiredProperty: A required property was not specified. "
            "(PropertyName=vmSize)");
  const Error query(400, "InvalidQueryParameterValue", "Bad.",
                    {{"QueryParameterName", "$filter"}, {"QueryParameterValue", "x eq"}});
  EXPECT_EQ(format_error(query), "error: 400 InvalidQueryParameterValue: Bad. ($filter=x eq)");
}

TEST(ErrorReply, NonAzureBodiesKeepTheStatus) {
  const Error e = error_from_reply(502, "<html>Bad Gateway</html>");
  EXPECT_EQ(e.status, 502);
  EXPECT_EQ(e.code, "HttpError");
  EXPECT_EQ(format_error(e),
            "error: 502 HttpError: the server answered HTTP 502: <html>Bad Gateway</html>");
  EXPECT_EQ(error_from_reply(404, "").message, "the server answered HTTP 404");
}

TEST(ErrorText, MultiLineValuesStayOnOneLine) {
  const Error auth(403, "AuthenticationFailed", "Server failed to authenticate the request.",
                   {{"AuthenticationErrorDetail", "GET\n\nocp-date:x"}});
  EXPECT_EQ(format_error(auth),
            "error: 403 AuthenticationFailed: Server failed to authenticate the "
            "request. (AuthenticationErrorDetail=GET\\n\\nocp-date:x)");
}

TEST(ErrorText, TransportAndUsageErrorsAndExitCodes) {
  const Error transport(0, "ConnectFailed", "cannot connect to 127.0.0.1:1");
  EXPECT_EQ(format_error(transport), "error: ConnectFailed: cannot connect to 127.0.0.1:1");
  EXPECT_EQ(exit_code_for(transport), kExitFailure);
  const Error usage = usage_error("pool.json: not valid JSON");
  EXPECT_EQ(format_error(usage), "error: pool.json: not valid JSON");
  EXPECT_EQ(describe_error(usage), "pool.json: not valid JSON");
  EXPECT_EQ(exit_code_for(usage), kExitUsage);
}

}  // namespace
}  // namespace openbatch::cli
