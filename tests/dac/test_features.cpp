#include "dac/features.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace graybox::dac {

TEST(DiscountedStats, MatchesTheClosedFormRecursion) {
  DiscountedStats s(0.5);
  s.add(1.0);
  EXPECT_DOUBLE_EQ(s.mean(), 1.0);
  EXPECT_DOUBLE_EQ(s.variance(), 0.0);
  s.add(2.0);  // d = 1: mean 1.5, var 0.5·(0 + 0.5·1)
  EXPECT_DOUBLE_EQ(s.mean(), 1.5);
  EXPECT_DOUBLE_EQ(s.variance(), 0.25);
  s.add(3.0);  // d = 1.5: mean 2.25, var 0.5·(0.25 + 0.5·2.25)
  EXPECT_DOUBLE_EQ(s.mean(), 2.25);
  EXPECT_DOUBLE_EQ(s.variance(), 0.6875);
  s.clear();
  EXPECT_EQ(s.count(), 0u);
}

TEST(UpdateAlignment, IsTheCosineOfConsecutiveDirections) {
  UpdateAlignment a;
  a.start({0.0f, 0.0f});
  EXPECT_DOUBLE_EQ(a.observe({1.0f, 0.0f}), 0.0);  // one direction only
  EXPECT_DOUBLE_EQ(a.last_update_norm(), 1.0);
  EXPECT_NEAR(a.observe({2.0f, 1.0f}), 1.0 / std::sqrt(2.0), 1e-12);  // (1,1) after (1,0)
  EXPECT_NEAR(a.observe({1.0f, 0.0f}), -1.0, 1e-12);                  // (-1,-1) after (1,1)
  EXPECT_DOUBLE_EQ(a.observe({1.0f, 0.0f}), 0.0);                     // no move
  EXPECT_THROW(a.observe({1.0f}), std::invalid_argument);
}

}  // namespace graybox::dac
