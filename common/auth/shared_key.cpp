// SharedKey string-to-sign, HMAC-SHA256 via OpenSSL, and server-side verification with the
// slot variants that different SDKs sign (see batch-api.md section 9).
#include "common/auth/shared_key.hpp"

#include "common/encoding.hpp"
#include "common/http_date.hpp"
#include "common/text/ascii.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

namespace openbatch::auth {
namespace {

// The standard header slots of the string-to-sign, in signing order.
constexpr std::array<std::string_view, 11> kSlotHeaders = {"content-encoding",
                                                           "content-language",
                                                           "content-length",
                                                           "content-md5",
                                                           "content-type",
                                                           "date",
                                                           "if-modified-since",
                                                           "if-match",
                                                           "if-none-match",
                                                           "if-unmodified-since",
                                                           "range"};
constexpr std::size_t kContentLengthSlot = 2;
constexpr std::size_t kDateSlot = 5;

constexpr std::string_view kAuthFailedMessage =
    "Server failed to authenticate the request. Make sure the value of Authorization header is "
    "formed correctly including the signature.";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Value of the first header named `name` (case-insensitive).
std::optional<std::string_view> find_header(std::span<const HeaderField> headers,
                                            std::string_view name) {
  for (const auto& h : headers) {
    if (text::iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

// Splits a request-target into its encoded path and raw query, dropping a scheme and
// authority (absolute-form) and a fragment.
std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  if (const auto hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  if (!target.starts_with('/')) {
    if (const auto scheme = target.find("://"); scheme != std::string_view::npos) {
      const auto path_start = target.find_first_of("/?", scheme + 3);
      target =
          path_start == std::string_view::npos ? std::string_view{} : target.substr(path_start);
    }
  }
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

// "/account/encoded/path\nname:value..." with query names lowercased and sorted, values
// URL-decoded, repeated names joined by ','.
void append_canonical_resource(std::string& out, std::string_view target,
                               std::string_view account) {
  const auto [path, query] = split_target(target);
  out += '/';
  out += account;
  out += path.empty() ? std::string_view("/") : path;

  std::vector<std::pair<std::string, std::string>> params;
  std::string_view rest = query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view raw_name = pair.substr(0, eq);
    if (raw_name.empty()) continue;
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    params.emplace_back(
        text::to_lower(encoding::percent_decode_lenient(raw_name, encoding::PlusMeans::Space)),
        encoding::percent_decode_lenient(raw_value, encoding::PlusMeans::Space));
  }
  // Byte order on the lowercased names puts '$filter' before letters, as the SDKs do; the
  // stable sort keeps repeated values in request order.
  std::stable_sort(params.begin(), params.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i > 0 && params[i].first == params[i - 1].first) {
      out += ',';
    } else {
      out += '\n';
      out += params[i].first;
      out += ':';
    }
    out += params[i].second;
  }
}

// What the string-to-sign is built from, gathered in one pass over the headers.
struct Gathered {
  std::array<std::optional<std::string_view>, kSlotHeaders.size()> slots;
  std::vector<std::pair<std::string, std::string_view>> ocp;  // lowercased name, trimmed value
};

Gathered gather(std::span<const HeaderField> headers) {
  Gathered g;
  for (const auto& h : headers) {
    std::string name = text::to_lower(h.name);
    if (name.starts_with("ocp-")) {
      const auto value = trim(h.value);
      if (!value.empty()) g.ocp.emplace_back(std::move(name), value);
      continue;
    }
    for (std::size_t i = 0; i < kSlotHeaders.size(); ++i) {
      if (name == kSlotHeaders[i] && !g.slots[i]) g.slots[i] = h.value;
    }
  }
  std::stable_sort(g.ocp.begin(), g.ocp.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return g;
}

std::string build(const RequestView& request, std::string_view account, const Gathered& g,
                  std::string_view content_length, std::string_view date) {
  std::string out;
  out.reserve(256 + request.target.size());
  std::transform(request.method.begin(), request.method.end(), std::back_inserter(out),
                 [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
  out += '\n';
  for (std::size_t i = 0; i < kSlotHeaders.size(); ++i) {
    if (i == kContentLengthSlot) {
      out += content_length;
    } else if (i == kDateSlot) {
      out += date;
    } else if (g.slots[i]) {
      out += *g.slots[i];
    }
    out += '\n';
  }
  for (const auto& [name, value] : g.ocp) {
    out += name;
    out += ':';
    out += value;
    out += '\n';
  }
  append_canonical_resource(out, request.target, account);
  return out;
}

// The Content-Length slot as the JS SDK fills it (section 9.3).
std::string_view js_content_length(const RequestView& request, const Gathered& g) {
  if (g.slots[kContentLengthSlot]) return *g.slots[kContentLengthSlot];
  return text::iequals(request.method, "POST") ? std::string_view("0") : std::string_view{};
}

Error auth_failed(std::string detail) {
  return Error(403, "AuthenticationFailed", std::string(kAuthFailedMessage),
               {{"AuthenticationErrorDetail", std::move(detail)}});
}

Error invalid_auth_info(std::string detail) {
  return Error(400, "InvalidAuthenticationInfo",
               "Authentication information is not given in the correct format. Check the value "
               "of Authorization header.",
               {{"AuthenticationErrorDetail", std::move(detail)}});
}

struct ParsedAuthorization {
  std::string_view account;
  std::string_view signature;
};

std::optional<ParsedAuthorization> parse_authorization(std::string_view value) {
  value = trim(value);
  const auto space = value.find(' ');
  if (space == std::string_view::npos || !text::iequals(value.substr(0, space), "SharedKey")) {
    return std::nullopt;
  }
  const std::string_view credential = trim(value.substr(space + 1));
  const auto colon = credential.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == credential.size()) {
    return std::nullopt;
  }
  return ParsedAuthorization{credential.substr(0, colon), credential.substr(colon + 1)};
}

Status check_date(const Gathered& g, TimePoint now) {
  std::optional<std::string_view> raw;
  for (const auto& [name, value] : g.ocp) {
    if (name == "ocp-date") raw = value;
  }
  if (!raw) raw = g.slots[kDateSlot];
  if (!raw || raw->empty()) {
    return auth_failed("The request is missing the ocp-date and Date headers.");
  }
  const auto when = parse_http_date(*raw);
  if (!when) return auth_failed("The ocp-date or Date header is not an RFC 1123 date.");
  // Compared with the bounds, not through the difference: a date centuries from `now` is
  // still a valid time point, but the difference would overflow.
  if (*when < now - kMaxClockSkew || *when > now + kMaxClockSkew) {
    return auth_failed("The request time differs from the server time by more than 15 minutes.");
  }
  return {};
}

// The strings-to-sign that SDKs produce for the same request: a "0" Content-Length signed
// as empty (Python), and a Date header left out of its slot because ocp-date is present (the
// Azure Storage convention). The first is the literal one, reported on failure.
std::vector<std::string> candidate_strings(const RequestView& request, std::string_view account,
                                           const Gathered& g) {
  const std::string_view length = js_content_length(request, g);
  std::vector<std::string_view> lengths{length};
  if (length == "0") lengths.emplace_back();
  const std::string_view date = g.slots[kDateSlot].value_or(std::string_view{});
  const bool has_ocp_date =
      std::any_of(g.ocp.begin(), g.ocp.end(), [](const auto& h) { return h.first == "ocp-date"; });
  std::vector<std::string_view> dates{date};
  if (!date.empty() && has_ocp_date) dates.emplace_back();
  std::vector<std::string> out;
  for (const auto l : lengths) {
    for (const auto d : dates) out.push_back(build(request, account, g, l, d));
  }
  return out;
}

bool signature_matches(std::string_view key, std::string_view string_to_sign,
                       std::string_view presented) {
  const std::string expected = compute_signature(key, string_to_sign);
  return expected.size() == presented.size() &&
         CRYPTO_memcmp(expected.data(), presented.data(), expected.size()) == 0;
}

}  // namespace

Result<SharedKeyCredential> SharedKeyCredential::from_base64(std::string account,
                                                             std::string_view base64_key) {
  auto key = encoding::base64_decode(base64_key);
  if (!key) return key.error();
  return SharedKeyCredential{std::move(account), std::move(*key)};
}

std::string string_to_sign(const RequestView& request, std::string_view account) {
  const Gathered g = gather(request.headers);
  return build(request, account, g, js_content_length(request, g),
               g.slots[kDateSlot].value_or(std::string_view{}));
}

std::string compute_signature(std::string_view key, std::string_view string_to_sign) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(string_to_sign.data()), string_to_sign.size(), mac,
       &mac_size);
  return encoding::base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

std::string sign(const RequestView& request, const SharedKeyCredential& credential) {
  return "SharedKey " + credential.account + ":" +
         compute_signature(credential.key, string_to_sign(request, credential.account));
}

Status verify(const RequestView& request, std::span<const SharedKeyCredential> accepted,
              TimePoint now) {
  const auto header = find_header(request.headers, "Authorization");
  if (!header) return auth_failed("The Authorization header is missing.");
  const auto parsed = parse_authorization(*header);
  if (!parsed) {
    return invalid_auth_info("The Authorization header must be 'SharedKey {account}:{signature}'.");
  }
  const bool known = std::any_of(accepted.begin(), accepted.end(), [&](const auto& c) {
    return text::iequals(c.account, parsed->account);
  });
  if (!known) return auth_failed("The account '" + std::string(parsed->account) + "' is unknown.");

  const Gathered g = gather(request.headers);
  if (auto date_ok = check_date(g, now); !date_ok) return date_ok;

  const std::vector<std::string> candidates = candidate_strings(request, parsed->account, g);
  for (const auto& credential : accepted) {
    if (!text::iequals(credential.account, parsed->account)) continue;
    for (const auto& candidate : candidates) {
      if (signature_matches(credential.key, candidate, parsed->signature)) return {};
    }
  }
  return auth_failed("The MAC signature found in the HTTP request '" +
                     std::string(parsed->signature) +
                     "' is not the same as any computed signature. Server used following "
                     "string to sign: '" +
                     candidates.front() + "'.");
}

}  // namespace openbatch::auth
