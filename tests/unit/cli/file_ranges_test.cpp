// ocp-range spans for whole files, tails and chunking.
#include "cli/file_ranges.hpp"

#include <gtest/gtest.h>

namespace openbatch::cli {
namespace {

TEST(FileRanges, WholeFileInChunks) {
  EXPECT_EQ(plan_ranges(10, std::nullopt, 4), (std::vector<ByteSpan>{{0, 3}, {4, 7}, {8, 9}}));
  EXPECT_EQ(plan_ranges(8, std::nullopt, 4), (std::vector<ByteSpan>{{0, 3}, {4, 7}}));
  EXPECT_TRUE(plan_ranges(0, std::nullopt, 4).empty());
}

TEST(FileRanges, TailTakesTheLastBytesOrTheWholeFile) {
  EXPECT_EQ(plan_ranges(100, 10, 64), (std::vector<ByteSpan>{{90, 99}}));
  EXPECT_EQ(plan_ranges(5, 10, 64), (std::vector<ByteSpan>{{0, 4}}));
  EXPECT_TRUE(plan_ranges(5, 0, 64).empty());
}

TEST(FileRanges, HeaderIsInclusive) { EXPECT_EQ(range_header({90, 99}), "bytes=90-99"); }

}  // namespace
}  // namespace openbatch::cli
