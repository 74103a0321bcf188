// SchedulerUrl: the --scheduler URL ("http://host[:port][/prefix]") split into what the join
// request (HTTP) and the link (WebSocket on the same host and port) need. Pure.
#pragma once

#include "common/error.hpp"

#include <string>
#include <string_view>

namespace openbatch::agent::link {

struct SchedulerUrl {
  std::string host;
  std::string port = "80";
  std::string prefix;  // path before /agent/v1/..., without a trailing '/'; often ""

  std::string base() const { return "http://" + host + ":" + port + prefix; }
  std::string join_target() const { return prefix + "/agent/v1/join"; }
  std::string link_target() const { return prefix + "/agent/v1/link"; }
};

// An Error (400 InvalidUrl) for anything but an http URL with a host and no query.
[[nodiscard]] Result<SchedulerUrl> parse_scheduler_url(std::string_view url);

}  // namespace openbatch::agent::link
