#include "common/error.hpp"

#include <gtest/gtest.h>

namespace openbatch {
namespace {

Result<int> half(int x) {
  if (x % 2 != 0) return errors::invalid_property("x", std::to_string(x), "odd");
  return x / 2;
}

TEST(Result, CarriesValueOrAzureShapedError) {
  ASSERT_TRUE(half(4));
  EXPECT_EQ(*half(4), 2);
  auto r = half(3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 400);
  EXPECT_EQ(r.error().code, "InvalidPropertyValue");
  EXPECT_EQ(r.error().detail("PropertyName"), "x");
  EXPECT_EQ(r.error().detail("PropertyValue"), "3");
  EXPECT_THROW((void)r.value(), std::logic_error);
}

}  // namespace
}  // namespace openbatch
