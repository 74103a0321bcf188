// Fuzz target: SharedKey verification (common/auth/shared_key.hpp), the Authorization header
// parser and the string-to-sign builder, on a request made of the input's lines:
//   line 1: method; line 2: request-target; then one "name:value" header per line.
// Invariants: verify() never crashes and refuses with a 400 or 403 in Azure's shape; and the
// same request, signed with sign() (after a fresh ocp-date replaces any date the input set),
// verifies -- whatever its method, target and other headers.
#include "common/auth/shared_key.hpp"
#include "common/http_date.hpp"

#include "fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace openbatch;
using auth::HeaderField;

// The worked examples' account and key (batch-api.md section 9), and their time.
constexpr std::string_view kDate = "Fri, 17 Feb 2017 00:00:00 GMT";

const auth::SharedKeyCredential& credential() {
  static const auth::SharedKeyCredential c = *auth::SharedKeyCredential::from_base64(
      "myaccount", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");
  return c;
}

bool named(std::string_view name, std::string_view wanted) {
  if (name.size() != wanted.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] + 32) : name[i];
    if (c != wanted[i]) return false;
  }
  return true;
}

std::string_view next_line(std::string_view& rest) {
  const auto end = rest.find('\n');
  const std::string_view line = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view method = next_line(rest);
  const std::string_view target = next_line(rest);
  std::vector<HeaderField> headers;
  while (!rest.empty()) {
    const std::string_view line = next_line(rest);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers.push_back({line.substr(0, colon), value});
  }
  const TimePoint now = *parse_http_date(kDate);
  const auth::SharedKeyCredential accepted[] = {credential()};

  // The input's own Authorization header (if any), as a client sent it.
  const auth::RequestView as_sent{method, target, headers};
  if (auto verdict = auth::verify(as_sent, accepted, now); !verdict) {
    const int status = verdict.error().status;
    FUZZ_CHECK(status == 400 || status == 403, "a refusal is a 400 or a 403");
    FUZZ_CHECK(!verdict.error().code.empty(), "a refusal has a code");
  }

  // Signed by the key holder, the same request must pass.
  std::vector<HeaderField> signed_headers;
  for (const auto& h : headers) {
    if (!named(h.name, "authorization") && !named(h.name, "ocp-date")) signed_headers.push_back(h);
  }
  signed_headers.push_back({"ocp-date", kDate});
  const std::string authorization =
      auth::sign(auth::RequestView{method, target, signed_headers}, credential());
  signed_headers.insert(signed_headers.begin(), HeaderField{"Authorization", authorization});
  const auto verdict =
      auth::verify(auth::RequestView{method, target, signed_headers}, accepted, now);
  FUZZ_CHECK(verdict.has_value(), "a request signed with the key verifies");
  return 0;
}
