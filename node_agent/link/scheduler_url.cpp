// --scheduler URL parsing (see scheduler_url.hpp).
#include "node_agent/link/scheduler_url.hpp"

#include <boost/url/parse.hpp>

namespace openbatch::agent::link {

Result<SchedulerUrl> parse_scheduler_url(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Error(400, "InvalidUrl", "--scheduler '" + std::string(text) + "': " + std::string(why));
  };
  auto url = boost::urls::parse_absolute_uri(text);
  if (!url) return bad("not an absolute URL");
  if (url->scheme() != "http") return bad("must start with http:// (terminate TLS in front)");
  if (url->encoded_host().empty()) return bad("has no host");
  if (url->has_query() || url->has_fragment()) return bad("must not have a query or fragment");
  SchedulerUrl out;
  out.host = std::string(url->encoded_host());
  if (url->has_port()) out.port = std::string(url->port());
  out.prefix = std::string(url->encoded_path());
  while (!out.prefix.empty() && out.prefix.back() == '/') out.prefix.pop_back();
  return out;
}

}  // namespace openbatch::agent::link
