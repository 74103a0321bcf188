// Progress rate, ETA and rendering (see progress.hpp).
#include "cli/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace openbatch::cli {

void RateEstimator::add(double now, std::int64_t completed) {
  samples_.emplace_back(now, completed);
  // Keep the newest sample that is at least a window old, so the span covers the window.
  while (samples_.size() > 2 && samples_[1].first <= now - window_) samples_.pop_front();
}

std::optional<double> RateEstimator::rate() const {
  if (samples_.size() < 2) return std::nullopt;
  const auto& [t0, c0] = samples_.front();
  const auto& [t1, c1] = samples_.back();
  if (t1 <= t0) return std::nullopt;
  return std::max(0.0, static_cast<double>(c1 - c0) / (t1 - t0));
}

std::optional<double> eta_seconds(std::int64_t remaining, std::optional<double> rate) {
  if (remaining <= 0) return 0.0;
  if (!rate || *rate <= 0.0) return std::nullopt;
  return static_cast<double>(remaining) / *rate;
}

std::string format_eta(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0) return "--";
  const auto total = static_cast<long long>(std::ceil(*seconds));
  char buf[48];
  if (total < 60) {
    std::snprintf(buf, sizeof buf, "%llds", total);
  } else if (total < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", total / 60, total % 60);
  } else if (total < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", total / 3600, total % 3600 / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", total / 86400, total % 86400 / 3600);
  }
  return buf;
}

std::string format_rate(std::optional<double> rate) {
  if (!rate) return "-- tasks/s";
  char buf[48];
  std::snprintf(buf, sizeof buf, *rate < 100 ? "%.1f tasks/s" : "%.0f tasks/s", *rate);
  return buf;
}

std::string render_progress(const TaskCounts& counts, std::optional<double> rate, int bar_width) {
  const std::int64_t total = counts.total();
  const int filled = total > 0 ? static_cast<int>(counts.completed * bar_width / total) : bar_width;
  const std::int64_t percent = total > 0 ? counts.completed * 100 / total : 100;
  std::string out;
  if (bar_width > 0) {
    const auto bar = static_cast<std::size_t>(std::clamp(filled, 0, bar_width));
    out = "[" + std::string(bar, '#') +
          std::string(static_cast<std::size_t>(bar_width) - bar, '-') + "] ";
  }
  out += std::to_string(counts.completed) + "/" + std::to_string(total) + " done (" +
         std::to_string(percent) + "%)";
  out += "  running " + std::to_string(counts.running);
  out += "  failed " + std::to_string(counts.failed);
  out += "  " + format_rate(rate);
  out += "  ETA " + format_eta(eta_seconds(counts.remaining(), rate));
  return out;
}

std::string fit_progress(const TaskCounts& counts, std::optional<double> rate, int columns) {
  constexpr int kDefaultBar = 24;
  constexpr int kSmallestBar = 5;
  if (columns <= 0) return render_progress(counts, rate, kDefaultBar);
  const std::string plain = render_progress(counts, rate, 0);
  const int usable = columns - 1;  // writing the last column makes some terminals wrap
  const int room = usable - static_cast<int>(plain.size()) - 3;  // "[" "] "
  if (room >= kSmallestBar) return render_progress(counts, rate, std::min(room, kDefaultBar));
  return plain.substr(0, static_cast<std::size_t>(std::max(usable, 0)));
}

std::string ProgressPrinter::update(double now, const TaskCounts& counts, bool final) {
  rate_.add(now, counts.completed);
  if (tty_)
    return "\r" + fit_progress(counts, rate_.rate(), columns_) + "\x1b[K" + (final ? "\n" : "");
  const std::string line = render_progress(counts, rate_.rate());
  if (!final && last_print_ && now - *last_print_ < every_) return {};
  last_print_ = now;
  return line + "\n";
}

}  // namespace openbatch::cli
