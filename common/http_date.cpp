// RFC 1123 date parsing and formatting with <chrono> calendar types: no strptime/strftime,
// so the result does not depend on the process locale or the TZ variable.
#include "common/http_date.hpp"

#include <array>
#include <cstdio>

namespace openbatch {
namespace {

constexpr std::array<std::string_view, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A cursor over the input that consumes fixed tokens and fixed-width numbers.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool literal(std::string_view s) {
    if (text_.substr(0, s.size()) != s) return false;
    text_.remove_prefix(s.size());
    return true;
  }

  // Reads between min_digits and max_digits decimal digits.
  std::optional<int> number(std::size_t min_digits, std::size_t max_digits) {
    std::size_t n = 0;
    int value = 0;
    while (n < max_digits && n < text_.size() && text_[n] >= '0' && text_[n] <= '9') {
      value = value * 10 + (text_[n] - '0');
      ++n;
    }
    if (n < min_digits) return std::nullopt;
    text_.remove_prefix(n);
    return value;
  }

  // Index of the three-letter name at the cursor in `names`, consuming it.
  template <std::size_t N>
  std::optional<unsigned> name(const std::array<std::string_view, N>& names) {
    for (unsigned i = 0; i < N; ++i) {
      if (literal(names[i])) return i;
    }
    return std::nullopt;
  }

  bool done() const { return text_.empty(); }

 private:
  std::string_view text_;
};

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  using std::chrono::system_clock, std::chrono::year_month_day, std::chrono::year,
      std::chrono::sys_days, std::chrono::hours, std::chrono::minutes, std::chrono::seconds;
  Scanner s(text);
  if (!s.name(kWeekdays) || !s.literal(", ")) return std::nullopt;
  const auto day = s.number(1, 2);
  if (!day || !s.literal(" ")) return std::nullopt;
  const auto month = s.name(kMonths);
  if (!month || !s.literal(" ")) return std::nullopt;
  const auto year_number = s.number(4, 4);
  if (!year_number || !s.literal(" ")) return std::nullopt;
  const auto hh = s.number(2, 2);
  if (!hh || !s.literal(":")) return std::nullopt;
  const auto mm = s.number(2, 2);
  if (!mm || !s.literal(":")) return std::nullopt;
  const auto ss = s.number(2, 2);
  if (!ss || !s.literal(" GMT") || !s.done()) return std::nullopt;
  if (*hh > 23 || *mm > 59 || *ss > 59) return std::nullopt;

  const year_month_day ymd{year{*year_number}, std::chrono::month{*month + 1},
                           std::chrono::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok()) return std::nullopt;  // 30 Feb, 31 Apr, ...
  const std::chrono::sys_seconds when = sys_days{ymd} + hours{*hh} + minutes{*mm} + seconds{*ss};
  // system_clock counts nanoseconds in 64 bits (years 1678 to 2262): a date outside that range
  // is refused, not converted with a signed overflow (a client chooses the year).
  constexpr auto kEarliest = std::chrono::ceil<seconds>(system_clock::time_point::min());
  constexpr auto kLatest = std::chrono::floor<seconds>(system_clock::time_point::max());
  if (when < kEarliest || when > kLatest) return std::nullopt;
  return time_point_cast<system_clock::duration>(when);
}

std::string format_http_date(std::chrono::system_clock::time_point when) {
  using std::chrono::floor, std::chrono::seconds, std::chrono::days, std::chrono::year_month_day,
      std::chrono::hh_mm_ss, std::chrono::weekday;
  const auto secs = floor<seconds>(when);
  const auto days_part = floor<days>(secs);
  const year_month_day ymd{days_part};
  const hh_mm_ss hms{secs - days_part};
  const weekday wd{days_part};
  // "Www, DD Mmm YYYY HH:MM:SS GMT" is 29 characters; the buffer leaves room for the NUL and
  // for years beyond four digits.
  char buf[40];
  const int n = std::snprintf(
      buf, sizeof buf, "%.3s, %02u %.3s %04d %02d:%02d:%02d GMT", kWeekdays[wd.c_encoding()].data(),
      static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1].data(),
      static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
      static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace openbatch
