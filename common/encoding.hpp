// Byte and text encodings used on the wire: base64 (account keys, HMAC signatures), hex
// (digests), percent-encoding of URL parts, and random UUID v4 strings (request ids).
// Pure functions over values; thread-safe (uuid_v4 draws from OpenSSL's thread-safe RNG).
#pragma once

#include "common/error.hpp"

#include <string>
#include <string_view>

namespace openbatch::encoding {

// Standard base64 (RFC 4648 alphabet, '=' padding) of arbitrary bytes.
std::string base64_encode(std::string_view bytes);

// Decodes padded standard base64. Rejects whitespace, characters outside the alphabet,
// misplaced padding and lengths that are not a multiple of 4, with a 400 "InvalidBase64Value"
// Error that callers re-map to their context (a bad key, a bad property value).
Result<std::string> base64_decode(std::string_view text);

// Lowercase hex of arbitrary bytes, and its inverse (either case accepted).
std::string hex_encode(std::string_view bytes);
Result<std::string> hex_decode(std::string_view text);

// How '+' is read when percent-decoding: in a query string (form encoding) it means a space,
// in a path segment it is a literal plus.
enum class PlusMeans { Plus, Space };

// Strict percent-decoding: a '%' not followed by two hex digits is a 400 "InvalidUri" Error.
Result<std::string> percent_decode(std::string_view text, PlusMeans plus);
inline Result<std::string> percent_decode_query_value(std::string_view text) {
  return percent_decode(text, PlusMeans::Space);
}
inline Result<std::string> percent_decode_path_segment(std::string_view text) {
  return percent_decode(text, PlusMeans::Plus);
}

// Lenient percent-decoding as Node's querystring.unescape does it: a malformed escape is kept
// literally instead of failing. SharedKey signing uses it so that both sides canonicalize any
// query string the same way, even one the API will later reject.
std::string percent_decode_lenient(std::string_view text, PlusMeans plus);

// Percent-encodes everything except RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~),
// for ids, file paths and $filter values placed into a URL. Stricter than JavaScript's
// encodeURIComponent (which keeps ! * ' ( )): the captured SDK traffic writes ' as %27.
std::string percent_encode_component(std::string_view text);

// A random (version 4, RFC 4122 variant) UUID in lowercase 8-4-4-4-12 form.
std::string uuid_v4();

}  // namespace openbatch::encoding
