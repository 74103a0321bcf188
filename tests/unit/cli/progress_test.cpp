// Progress: rate over a sliding window, ETA, rendering, and when lines are written.
#include "cli/progress.hpp"

#include <gtest/gtest.h>

namespace openbatch::cli {
namespace {

TEST(RateEstimator, NeedsTwoSamplesAtDifferentTimes) {
  RateEstimator r;
  EXPECT_FALSE(r.rate());
  r.add(0.0, 0);
  EXPECT_FALSE(r.rate());
  r.add(0.0, 5);
  EXPECT_FALSE(r.rate());
  r.add(2.0, 10);
  ASSERT_TRUE(r.rate());
  EXPECT_DOUBLE_EQ(*r.rate(), 5.0);
}

TEST(RateEstimator, ForgetsSamplesOlderThanTheWindow) {
  RateEstimator r(10.0);
  r.add(0.0, 0);
  r.add(10.0, 1000);  // a burst early on
  r.add(20.0, 1010);
  r.add(30.0, 1020);  // 1 task/s over the last window
  ASSERT_TRUE(r.rate());
  EXPECT_DOUBLE_EQ(*r.rate(), 1.0);
}

TEST(RateEstimator, AFallingCountReadsAsZero) {
  RateEstimator r;
  r.add(0.0, 10);
  r.add(1.0, 8);
  EXPECT_DOUBLE_EQ(*r.rate(), 0.0);
}

TEST(Eta, RemainingOverRate) {
  EXPECT_DOUBLE_EQ(*eta_seconds(100, 4.0), 25.0);
  EXPECT_DOUBLE_EQ(*eta_seconds(0, std::nullopt), 0.0);
  EXPECT_FALSE(eta_seconds(10, 0.0));
  EXPECT_FALSE(eta_seconds(10, std::nullopt));
}

TEST(Eta, FormatsByMagnitude) {
  EXPECT_EQ(format_eta(std::nullopt), "--");
  EXPECT_EQ(format_eta(0.0), "0s");
  EXPECT_EQ(format_eta(41.2), "42s");
  EXPECT_EQ(format_eta(185.0), "3m05s");
  EXPECT_EQ(format_eta(7380.0), "2h03m");
  EXPECT_EQ(format_eta(367200.0), "4d06h");
}

TEST(Rate, FormatsWithOneDecimalBelowAHundred) {
  EXPECT_EQ(format_rate(std::nullopt), "-- tasks/s");
  EXPECT_EQ(format_rate(3.14), "3.1 tasks/s");
  EXPECT_EQ(format_rate(1234.5), "1234 tasks/s");
}

TEST(RenderProgress, ShowsBarCountsRateAndEta) {
  TaskCounts c{.active = 122, .running = 8, .completed = 120, .failed = 2};
  EXPECT_EQ(render_progress(c, 3.0, 10),
            "[####------] 120/250 done (48%)  running 8  failed 2  3.0 tasks/s  ETA 44s");
  EXPECT_EQ(render_progress(TaskCounts{}, std::nullopt, 4),
            "[####] 0/0 done (100%)  running 0  failed 0  -- tasks/s  ETA 0s");
}

TEST(FitProgress, ShrinksTheBarThenDropsItThenCutsTheText) {
  const TaskCounts c{.active = 122, .running = 8, .completed = 120, .failed = 2};
  const std::string plain = render_progress(c, 3.0, 0);
  EXPECT_EQ(plain.rfind("120/250 done", 0), 0u);
  EXPECT_EQ(fit_progress(c, 3.0, 0), render_progress(c, 3.0, 24));
  EXPECT_EQ(fit_progress(c, 3.0, 200), render_progress(c, 3.0, 24));
  const int width = static_cast<int>(plain.size());
  EXPECT_EQ(fit_progress(c, 3.0, width + 1 + 3 + 10), render_progress(c, 3.0, 10));
  EXPECT_EQ(fit_progress(c, 3.0, width + 1 + 3 + 4), plain);  // no room for a useful bar
  EXPECT_EQ(fit_progress(c, 3.0, 21), plain.substr(0, 20));
  for (int columns : {30, 60, 80, 100}) {
    EXPECT_LT(static_cast<int>(fit_progress(c, 3.0, columns).size()), columns) << columns;
  }
}

TEST(ProgressPrinter, TerminalRedrawsOneLineUntilTheFinalNewline) {
  ProgressPrinter p(/*tty=*/true, 5.0);
  TaskCounts c{.active = 1};
  const std::string first = p.update(0.0, c, false);
  EXPECT_EQ(first.front(), '\r');
  EXPECT_NE(first.find("\x1b[K"), std::string::npos);
  EXPECT_NE(first.back(), '\n');
  EXPECT_FALSE(p.update(0.5, c, false).empty());  // every poll redraws
  c = TaskCounts{.completed = 1};
  const std::string last = p.update(1.0, c, true);
  EXPECT_EQ(last.back(), '\n');
  EXPECT_NE(last.find("1/1 done"), std::string::npos);
}

TEST(ProgressPrinter, PipesGetALineEveryFewSecondsAndTheLastOne) {
  ProgressPrinter p(/*tty=*/false, 5.0);
  TaskCounts c{.active = 2};
  EXPECT_EQ(p.update(0.0, c, false).back(), '\n');
  EXPECT_EQ(p.update(2.0, c, false), "");
  EXPECT_EQ(p.update(4.9, c, false), "");
  const std::string again = p.update(5.0, c, false);
  EXPECT_EQ(again.find('\r'), std::string::npos);
  EXPECT_EQ(again.back(), '\n');
  EXPECT_FALSE(p.update(6.0, TaskCounts{.completed = 2}, true).empty());
}

}  // namespace
}  // namespace openbatch::cli
