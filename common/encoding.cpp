// Base64 through OpenSSL's EVP block codec, hex and percent-encoding by table, UUIDs from
// RAND_bytes. Base64 input is validated here before OpenSSL sees it, because EVP_DecodeBlock
// silently skips surrounding whitespace and reports padding as zero bytes.
#include "common/encoding.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace openbatch::encoding {
namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";

// Value of one hex digit, or -1.
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

Error bad_base64(std::string_view reason) {
  return Error(400, "InvalidBase64Value", "The value is not valid base64.",
               {{"Reason", std::string(reason)}});
}

const unsigned char* as_bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  if (out.empty()) return out;
  // EVP_EncodeBlock writes a terminating NUL after the 4*ceil(n/3) characters, so give it
  // one spare byte and trim it off again.
  out.push_back('\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), as_bytes(bytes),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.empty()) return std::string{};
  if (text.size() % 4 != 0) return bad_base64("length is not a multiple of 4");
  std::size_t padding = 0;
  if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    if (!is_base64_char(text[i])) return bad_base64("character outside the base64 alphabet");
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), as_bytes(text),
                                      static_cast<int>(text.size()));
  if (written < 0 || static_cast<std::size_t>(written) != out.size()) {
    return bad_base64("undecodable");
  }
  out.resize(out.size() - padding);
  return out;
}

std::string hex_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char b : bytes) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0x0f]);
  }
  return out;
}

Result<std::string> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) {
    return Error(400, "InvalidHexValue", "The value is not valid hex.",
                 {{"Reason", "odd number of digits"}});
  }
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) {
      return Error(400, "InvalidHexValue", "The value is not valid hex.",
                   {{"Reason", "non-hex character"}});
    }
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

Result<std::string> percent_decode(std::string_view text, PlusMeans plus) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      const int lo = hi >= 0 ? hex_value(text[i + 2]) : -1;
      if (lo < 0) {
        return Error(400, "InvalidUri",
                     "The requested URI does not represent any resource on the server.",
                     {{"Reason", "malformed percent-encoding"}, {"Value", std::string(text)}});
      }
      out.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    } else {
      out.push_back(c == '+' && plus == PlusMeans::Space ? ' ' : c);
    }
  }
  return out;
}

std::string percent_decode_lenient(std::string_view text, PlusMeans plus) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) << 4 | hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c == '+' && plus == PlusMeans::Space ? ' ' : c);
    }
  }
  return out;
}

std::string percent_encode_component(std::string_view text) {
  // Default options write upper-case escapes (%2F), as the SDKs do.
  return boost::urls::encode(text, boost::urls::unreserved_chars);
}

std::string uuid_v4() {
  std::array<unsigned char, 16> b{};
  // RAND_bytes only fails when the OS entropy source is unusable; nothing sensible can run
  // then (keys, tokens and ids all need it), so stop rather than hand out predictable ids.
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    std::fputs("openbatch: RAND_bytes failed: no usable entropy source\n", stderr);
    std::abort();
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHexDigits[b[i] >> 4]);
    out.push_back(kHexDigits[b[i] & 0x0f]);
  }
  return out;
}

}  // namespace openbatch::encoding
