// How the CLI reports failures: exit codes, the usage-error code, turning an Azure error reply
// into an Error, and the one-line "error: ..." text printed for an Error.
// Pure functions over values; thread-safe.
#pragma once

#include "common/error.hpp"

#include <string>
#include <string_view>

namespace openbatch::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // an API or transport error, or tasks that failed
inline constexpr int kExitUsage = 2;    // bad flags, arguments, input files or settings

// Error code of a problem with the user's input found before any request was sent.
inline constexpr std::string_view kUsageError = "UsageError";

Error usage_error(std::string message);

// The Error an HTTP error reply stands for: the Azure error body's code, the first line of
// message.value (the server appends RequestId/Time lines) and its values. A body that is not
// an Azure error gives code "HttpError" and the status line as message.
Error error_from_reply(int status, std::string_view body);

// "error: 400 InvalidPropertyValue: <message> (vmSize=Standard_X, Reason=...)". A name/value
// pair of details (PropertyName+PropertyValue, QueryParameterName+QueryParameterValue,
// HeaderName+HeaderValue) prints as name=value; other details as Key=value. Errors with no
// HTTP status (transport) print "error: CODE: message"; usage errors "error: message".
std::string format_error(const Error& error);

// format_error without the leading "error: " (for per-item lines such as failed tasks).
std::string describe_error(const Error& error);

// kExitUsage for usage errors, kExitFailure for anything else.
int exit_code_for(const Error& error);

}  // namespace openbatch::cli
