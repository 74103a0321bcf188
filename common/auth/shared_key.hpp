// Azure Batch SharedKey authentication (batch-api.md section 9): the string-to-sign, the
// client's Authorization header and the server's verification. Pure functions over views of
// a request; "now" is a parameter. Thread-safe.
#pragma once

#include "common/clock.hpp"
#include "common/error.hpp"

#include <chrono>
#include <span>
#include <string>
#include <string_view>

namespace openbatch::auth {

// Requests whose ocp-date/Date is further than this from the server's clock are refused.
inline constexpr std::chrono::minutes kMaxClockSkew{15};

struct HeaderField {
  std::string_view name;   // any case
  std::string_view value;  // as received (HTTP parsers already strip the surrounding spaces)
};

// One HTTP request as the signature sees it. Only views: the caller keeps the data alive.
struct RequestView {
  std::string_view method;  // "GET", "POST", ...
  // The request-target exactly as on the wire: encoded path, then '?' and the raw query.
  // Absolute-form ("http://host/pools?...") is accepted and reduced to its path and query.
  std::string_view target;
  std::span<const HeaderField> headers;  // every request header
};

// An account name with one of its keys. The server may hold several (primary, secondary).
struct SharedKeyCredential {
  std::string account;
  std::string key;  // raw key bytes, i.e. the account key already base64-decoded

  // Decodes the account key as the portal shows it; a malformed key is a 400
  // "InvalidBase64Value" Error.
  static Result<SharedKeyCredential> from_base64(std::string account, std::string_view base64_key);
};

// The exact string-to-sign for `account`, with the Content-Length slot as the JS SDK fills
// it: the header's value, else "0" for a POST, else empty.
std::string string_to_sign(const RequestView& request, std::string_view account);

// Base64(HMAC-SHA256(key, string_to_sign)).
std::string compute_signature(std::string_view key, std::string_view string_to_sign);

// The Authorization header value for a request: "SharedKey {account}:{signature}". The
// request must already carry every header it will be sent with (ocp-date, Content-Type,
// Content-Length), since they are signed.
std::string sign(const RequestView& request, const SharedKeyCredential& credential);

// Checks a request's Authorization header against the accepted credentials. Succeeds when
// the signature matches any key of the named account (compared in constant time), trying
// the Content-Length and Date slot variants that real SDKs produce (section 9.3, 9.5), and
// the request time (ocp-date, else Date) is within kMaxClockSkew of `now`.
// Errors, in the order checked:
//   403 AuthenticationFailed      no Authorization header
//   400 InvalidAuthenticationInfo header not "SharedKey {account}:{signature}"
//   403 AuthenticationFailed      unknown account; missing, unparseable or skewed date;
//                                 wrong signature (AuthenticationErrorDetail then carries the
//                                 server's string-to-sign, as Azure does)
Status verify(const RequestView& request, std::span<const SharedKeyCredential> accepted,
              TimePoint now);

}  // namespace openbatch::auth
