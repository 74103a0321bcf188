// RFC 1123 HTTP dates ("Fri, 17 Feb 2017 00:00:00 GMT"), the format of the ocp-date, Date
// and Last-Modified headers. Pure, locale-independent functions; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace openbatch {

// Parses "%a, %d %b %Y %H:%M:%S GMT" exactly (English names, case-sensitive as in RFC 1123;
// a one-digit day is tolerated). The weekday must be a real name but is not checked against
// the date, as HTTP servers commonly do. Returns nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

// Formats a time point as RFC 1123, truncated to whole seconds.
std::string format_http_date(std::chrono::system_clock::time_point when);

}  // namespace openbatch
