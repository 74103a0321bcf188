// Parsing and formatting of ISO 8601 durations in TimeSpan ticks (see duration.hpp).
#include "scheduler/domain/duration.hpp"

namespace openbatch::domain {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads a run of digits at `pos`; false when there is none or it overflows int64.
bool read_number(std::string_view s, std::size_t& pos, int64_t& out) {
  const std::size_t start = pos;
  int64_t value = 0;
  while (pos < s.size() && is_digit(s[pos])) {
    if (__builtin_mul_overflow(value, 10, &value) ||
        __builtin_add_overflow(value, s[pos] - '0', &value)) {
      return false;
    }
    ++pos;
  }
  out = value;
  return pos > start;
}

// Adds count * unit to total; false on overflow.
bool add_scaled(int64_t& total, int64_t count, int64_t unit) {
  int64_t scaled = 0;
  return !__builtin_mul_overflow(count, unit, &scaled) &&
         !__builtin_add_overflow(total, scaled, &total);
}

// Reads ".ddd" after whole seconds as ticks (7 digits; the rest is below one tick).
bool read_fraction(std::string_view s, std::size_t& pos, int64_t& ticks) {
  ++pos;  // the '.'
  const std::size_t start = pos;
  ticks = 0;
  int64_t scale = kTicksPerSecond;
  while (pos < s.size() && is_digit(s[pos])) {
    scale /= 10;
    ticks += (s[pos] - '0') * scale;
    ++pos;
  }
  return pos > start;
}

// The part after 'T': [nH][nM][n[.f]S], in that order, at least one.
bool parse_time_part(std::string_view s, std::size_t pos, int64_t& total) {
  constexpr char kUnits[] = {'H', 'M', 'S'};
  constexpr int64_t kScale[] = {kTicksPerHour, kTicksPerMinute, kTicksPerSecond};
  std::size_t next_unit = 0;
  bool any = false;
  while (pos < s.size()) {
    int64_t n = 0;
    if (!read_number(s, pos, n)) return false;
    int64_t fraction = 0;
    if (pos < s.size() && s[pos] == '.') {
      if (!read_fraction(s, pos, fraction)) return false;
      if (pos >= s.size() || s[pos] != 'S') return false;  // fractions only on seconds
    }
    if (pos >= s.size()) return false;
    std::size_t unit = next_unit;
    while (unit < 3 && kUnits[unit] != s[pos]) ++unit;
    if (unit == 3) return false;  // unknown designator or out of order
    if (!add_scaled(total, n, kScale[unit]) || __builtin_add_overflow(total, fraction, &total)) {
      return false;
    }
    next_unit = unit + 1;
    any = true;
    ++pos;
  }
  return any;
}

}  // namespace

std::optional<int64_t> parse_duration(std::string_view s) {
  if (s.size() < 3 || s[0] != 'P') return std::nullopt;
  std::size_t pos = 1;
  int64_t total = 0;
  if (is_digit(s[pos])) {
    int64_t n = 0;
    if (!read_number(s, pos, n) || pos >= s.size()) return std::nullopt;
    if (s[pos] == 'W') {
      if (pos + 1 != s.size() || !add_scaled(total, n, 7 * kTicksPerDay)) return std::nullopt;
      return total;
    }
    if (s[pos] != 'D' || !add_scaled(total, n, kTicksPerDay)) return std::nullopt;
    ++pos;
    if (pos == s.size()) return total;
  }
  if (s[pos] != 'T' || !parse_time_part(s, pos + 1, total)) return std::nullopt;
  return total;
}

std::string format_duration(int64_t ticks) {
  if (ticks <= 0) return "PT0S";
  const int64_t days = ticks / kTicksPerDay;
  const int64_t hours = ticks % kTicksPerDay / kTicksPerHour;
  const int64_t minutes = ticks % kTicksPerHour / kTicksPerMinute;
  const int64_t seconds = ticks % kTicksPerMinute / kTicksPerSecond;
  int64_t fraction = ticks % kTicksPerSecond;
  std::string out = "P";
  if (days > 0) out += std::to_string(days) + "D";
  if (hours == 0 && minutes == 0 && seconds == 0 && fraction == 0) return out;
  out += 'T';
  if (hours > 0) out += std::to_string(hours) + "H";
  if (minutes > 0) out += std::to_string(minutes) + "M";
  if (seconds > 0 || fraction > 0) {
    out += std::to_string(seconds);
    if (fraction > 0) {
      std::string digits = std::to_string(fraction);
      digits.insert(0, 7 - digits.size(), '0');
      while (digits.back() == '0') digits.pop_back();
      out += '.' + digits;
    }
    out += 'S';
  }
  return out;
}

}  // namespace openbatch::domain
