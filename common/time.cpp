// ISO 8601 date-time and duration parsing and formatting (see time.hpp).
//
// Hand-written rather than std::chrono::parse because GCC 12's libstdc++ lacks it, and because
// the wire rules (7 fractional digits, no years/months in durations, TimeSpan.MaxValue) are
// Azure's, not a general ISO 8601 library's. The parsers report a reason as a static string so
// that the non-allocating try_parse_iso8601 can share them.
#include "common/time.hpp"

#include <cstdio>

namespace openbatch {
namespace {

using std::chrono::days;
using std::chrono::seconds;
using std::chrono::sys_days;

constexpr int64_t kTicksPerSecond = Duration::period::den;
constexpr int64_t kTicksPerMinute = 60 * kTicksPerSecond;
constexpr int64_t kTicksPerHour = 60 * kTicksPerMinute;
constexpr int64_t kTicksPerDay = 24 * kTicksPerHour;
constexpr int kMaxFractionDigits = 7;  // 100 ns, the precision of .NET DateTime and TimeSpan

// A forward-only reader over the text being parsed.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  bool eat(char c) {
    if (peek() != c || done()) return false;
    ++pos_;
    return true;
  }
  bool eat_either(char a, char b) { return eat(a) || eat(b); }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  // Exactly `count` decimal digits.
  bool fixed_digits(int count, int& out) {
    int value = 0;
    for (int i = 0; i < count; ++i) {
      if (!is_digit(peek())) return false;
      value = value * 10 + (text_[pos_++] - '0');
    }
    out = value;
    return true;
  }
  // One or more digits; false on none or on a value above INT64_MAX.
  bool number(int64_t& out) {
    if (!is_digit(peek())) return false;
    int64_t value = 0;
    while (is_digit(peek())) {
      const int digit = text_[pos_++] - '0';
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, digit, &value)) {
        return false;
      }
    }
    out = value;
    return true;
  }
  // The digits after a '.', as 100 ns ticks. Null on success, else the reason.
  const char* fraction_ticks(int64_t& out) {
    int count = 0;
    int64_t value = 0;
    while (is_digit(peek())) {
      if (++count > kMaxFractionDigits) return "more than 7 fractional digits";
      value = value * 10 + (text_[pos_++] - '0');
    }
    if (count == 0) return "expected digits after '.'";
    for (int i = count; i < kMaxFractionDigits; ++i) value *= 10;
    out = value;
    return nullptr;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

struct TimeFields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t fraction_ticks = 0;
  int offset_minutes = 0;  // east of UTC
};

// Reads the "+hh:mm" / "-hh:mm" / "Z" suffix, if any. Null on success, else the reason.
const char* read_zone(Cursor& c, TimeFields& f) {
  if (c.done() || c.eat_either('Z', 'z')) return nullptr;
  const bool east = c.eat('+');
  if (!east && !c.eat('-')) return "expected 'Z' or a +hh:mm offset after the time";
  const int sign = east ? 1 : -1;
  int hours = 0, minutes = 0;
  if (!c.fixed_digits(2, hours) || !c.eat(':') || !c.fixed_digits(2, minutes)) {
    return "expected the offset as +hh:mm or -hh:mm";
  }
  // .NET DateTimeOffset allows at most 14 hours either way.
  if (minutes > 59 || hours * 60 + minutes > 14 * 60) return "the UTC offset is out of range";
  f.offset_minutes = sign * (hours * 60 + minutes);
  return nullptr;
}

// Splits the text into fields, checking syntax only. Null on success, else the reason.
const char* read_time_fields(std::string_view text, TimeFields& f) {
  Cursor c(text);
  if (!c.fixed_digits(4, f.year) || !c.eat('-') || !c.fixed_digits(2, f.month) || !c.eat('-') ||
      !c.fixed_digits(2, f.day)) {
    return "expected a date as YYYY-MM-DD";
  }
  if (!c.eat_either('T', 't')) return "expected 'T' between the date and the time";
  if (!c.fixed_digits(2, f.hour) || !c.eat(':') || !c.fixed_digits(2, f.minute)) {
    return "expected a time as hh:mm:ss";
  }
  if (c.eat(':')) {
    if (!c.fixed_digits(2, f.second)) return "expected seconds as two digits";
    if (c.eat('.')) {
      if (const char* reason = c.fraction_ticks(f.fraction_ticks)) return reason;
    }
  }
  if (const char* reason = read_zone(c, f)) return reason;
  if (!c.done()) return "unexpected text after the time zone";
  return nullptr;
}

const char* parse_time(std::string_view text, TimePoint& out) {
  TimeFields f;
  if (const char* reason = read_time_fields(text, f)) return reason;
  const std::chrono::year_month_day date{std::chrono::year(f.year),
                                         std::chrono::month(static_cast<unsigned>(f.month)),
                                         std::chrono::day(static_cast<unsigned>(f.day))};
  if (!date.ok()) return "the date does not exist";
  if (f.hour > 23 || f.minute > 59 || f.second > 59) return "the time of day is out of range";

  const int64_t day_count = sys_days(date).time_since_epoch().count();
  const int64_t total_seconds = day_count * 86400 + int64_t{f.hour} * 3600 +
                                int64_t{f.minute} * 60 + f.second - int64_t{f.offset_minutes} * 60;
  // Keep a one-second margin so adding the fraction cannot overflow TimePoint.
  constexpr int64_t kMaxSeconds =
      std::chrono::duration_cast<seconds>(TimePoint::duration::max()).count() - 1;
  constexpr int64_t kMinSeconds =
      std::chrono::duration_cast<seconds>(TimePoint::duration::min()).count() + 1;
  if (total_seconds > kMaxSeconds || total_seconds < kMinSeconds) {
    return "the time is outside the supported range";
  }
  out = TimePoint(std::chrono::duration_cast<TimePoint::duration>(seconds(total_seconds) +
                                                                  Duration(f.fraction_ticks)));
  return nullptr;
}

// Ticks per unit for each designator, in the order they must appear; 0 marks a rejected unit.
struct Designator {
  char letter;
  bool time_part;  // after the 'T'
  int64_t ticks;
};
constexpr Designator kDesignators[] = {
    {'Y', false, 0},
    {'M', false, 0},
    {'W', false, 7 * kTicksPerDay},
    {'D', false, kTicksPerDay},
    {'H', true, kTicksPerHour},
    {'M', true, kTicksPerMinute},
    {'S', true, kTicksPerSecond},
};

// One "<number>[.<fraction>]<letter>" component; adds its ticks to `total`.
const char* read_duration_component(Cursor& c, bool time_part, int& last_rank, int64_t& total) {
  int64_t value = 0;
  if (!c.number(value)) {
    return Cursor::is_digit(c.peek()) ? "the duration is too large"
                                      : "expected a number before each designator";
  }
  int64_t fraction = 0;
  const bool has_fraction = c.eat('.');
  if (has_fraction) {
    if (const char* reason = c.fraction_ticks(fraction)) return reason;
  }
  const char letter = c.peek();
  int rank = -1;
  for (int i = 0; i < static_cast<int>(std::size(kDesignators)); ++i) {
    if (kDesignators[i].letter == letter && kDesignators[i].time_part == time_part) rank = i;
  }
  if (rank < 0) return "expected a designator (W, D, H, M or S) after the number";
  c.eat(letter);
  const Designator& unit = kDesignators[rank];
  if (unit.ticks == 0) return "years and months are not supported; use days (D) or weeks (W)";
  if (rank <= last_rank) return "designators must appear once each, in the order W D T H M S";
  if (has_fraction && unit.letter != 'S') return "only seconds may have a fraction";
  last_rank = rank;
  int64_t ticks = 0;
  if (__builtin_mul_overflow(value, unit.ticks, &ticks) ||
      __builtin_add_overflow(ticks, fraction, &ticks) ||
      __builtin_add_overflow(total, ticks, &total)) {
    return "the duration is too large";
  }
  return nullptr;
}

const char* parse_duration_text(std::string_view text, Duration& out) {
  if (text.empty()) return "the duration is empty";
  Cursor c(text);
  if (c.eat('-')) return "negative durations are not allowed";
  if (!c.eat('P')) return "a duration must start with 'P'";
  bool time_part = false;
  int components = 0;
  int time_components = 0;
  int last_rank = -1;
  int64_t total = 0;
  while (!c.done()) {
    if (c.eat('T')) {
      if (time_part) return "'T' may appear only once";
      time_part = true;
      continue;
    }
    if (const char* reason = read_duration_component(c, time_part, last_rank, total)) {
      return reason;
    }
    ++components;
    if (time_part) ++time_components;
  }
  if (components == 0) return "the duration has no components";
  if (time_part && time_components == 0) return "'T' must be followed by hours, minutes or seconds";
  out = Duration(total);
  return nullptr;
}

}  // namespace

std::string format_iso8601(TimePoint time) {
  const Duration ticks = std::chrono::floor<Duration>(time.time_since_epoch());
  const days day_count = std::chrono::floor<days>(ticks);
  const std::chrono::year_month_day date{sys_days(day_count)};
  const int64_t tod = (ticks - day_count).count();
  // Sized for any int inputs so that -Wformat-truncation can prove the fit.
  char buf[80];
  std::snprintf(
      buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%07dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(tod / kTicksPerHour), static_cast<int>(tod / kTicksPerMinute % 60),
      static_cast<int>(tod / kTicksPerSecond % 60), static_cast<int>(tod % kTicksPerSecond));
  return buf;
}

Result<TimePoint> parse_iso8601(std::string_view text, std::string_view property) {
  TimePoint out;
  if (const char* reason = parse_time(text, out)) {
    return errors::invalid_property(property, text, reason);
  }
  return out;
}

std::optional<TimePoint> try_parse_iso8601(std::string_view text) {
  TimePoint out;
  if (parse_time(text, out) != nullptr) return std::nullopt;
  return out;
}

Result<Duration> parse_duration(std::string_view text, std::string_view property) {
  Duration out{};
  if (const char* reason = parse_duration_text(text, out)) {
    return errors::invalid_property(property, text, reason);
  }
  return out;
}

std::string format_duration(Duration duration) {
  std::string out;
  // Work on the magnitude as unsigned so that Duration::min() has one too.
  uint64_t ticks = static_cast<uint64_t>(duration.count());
  if (duration.count() < 0) {
    out += '-';
    ticks = 0 - ticks;
  }
  const uint64_t day_count = ticks / kTicksPerDay;
  const uint64_t hours = ticks / kTicksPerHour % 24;
  const uint64_t minutes = ticks / kTicksPerMinute % 60;
  const uint64_t secs = ticks / kTicksPerSecond % 60;
  uint64_t fraction = ticks % kTicksPerSecond;
  out += 'P';
  if (day_count != 0) out += std::to_string(day_count) + 'D';
  if (hours == 0 && minutes == 0 && secs == 0 && fraction == 0) {
    if (day_count == 0) out += "T0S";
    return out;
  }
  out += 'T';
  if (hours != 0) out += std::to_string(hours) + 'H';
  if (minutes != 0) out += std::to_string(minutes) + 'M';
  if (secs != 0 || fraction != 0) {
    out += std::to_string(secs);
    if (fraction != 0) {
      char digits[16];
      std::snprintf(digits, sizeof digits, "%07u", static_cast<unsigned>(fraction));
      std::string_view trimmed(digits);
      trimmed.remove_suffix(trimmed.size() - (trimmed.find_last_not_of('0') + 1));
      out += '.';
      out += trimmed;
    }
    out += 'S';
  }
  return out;
}

}  // namespace openbatch
