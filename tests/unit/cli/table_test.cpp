// Aligned tables and property lists.
#include "cli/table.hpp"

#include <gtest/gtest.h>

namespace openbatch::cli {
namespace {

TEST(Table, AlignsColumnsToTheWidestCellAndTrimsTheLastColumn) {
  Table t({"ID", "STATE", "NODES"});
  t.add_row({"gpu-pool", "active", "0/1"});
  t.add_row({"p", "deleting", ""});
  EXPECT_EQ(t.render(),
            "ID        STATE     NODES\n"
            "gpu-pool  active    0/1\n"
            "p         deleting\n");
  EXPECT_EQ(t.rows(), 2u);
}

TEST(Table, PadsShortRowsDropsExtraCellsAndFlattensControlCharacters) {
  Table t({"A", "B"});
  t.add_row({"x"});
  t.add_row({"1", "two\nlines", "extra"});
  EXPECT_EQ(t.render(),
            "A  B\n"
            "x\n"
            "1  two lines\n");
}

TEST(Table, CountsUtf8CodePointsForWidth) {
  Table t({"NAME", "X"});
  t.add_row({"héllo", "1"});
  t.add_row({"ab", "2"});
  EXPECT_EQ(t.render(),
            "NAME   X\n"
            "héllo  1\n"
            "ab     2\n");
  EXPECT_EQ(display_width("héllo"), 5u);
}

TEST(Table, HeaderOnlyWhenEmpty) { EXPECT_EQ(Table({"ID", "STATE"}).render(), "ID  STATE\n"); }

TEST(Truncate, CutsWithAnEllipsisOnlyWhenTooLong) {
  EXPECT_EQ(truncate("abcdef", 6), "abcdef");
  EXPECT_EQ(truncate("abcdefg", 6), "abc...");
  EXPECT_EQ(truncate("ééééé", 4), "é...");
  EXPECT_EQ(truncate("abcdef", 2), "..");
}

TEST(Properties, AlignsValuesAndIndentsContinuationLines) {
  EXPECT_EQ(
      render_properties({{"ID", "p1"}, {"VM size", "standard_nc6"}, {"Errors", "A: x\nB: y"}}),
      "ID:       p1\n"
      "VM size:  standard_nc6\n"
      "Errors:   A: x\n"
      "          B: y\n");
}

}  // namespace
}  // namespace openbatch::cli
