// Quantile selection, donor choice and PBT's explore rules.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "pbt/explore.hpp"

namespace graybox::pbt {
namespace {

using core::Dimension;
using core::DimensionType;

TEST(SelectExploits, BottomQuantileCopiesTopQuantile) {
  core::Rng rng(1);
  // Eight scored members: n = ceil(8 * 0.25) = 2; losers are members 6 and 3 (the two largest
  // losses), donors members 1 and 4.
  const std::vector<double> losses{5, 0.1, 3, 9, 0.2, 4, 8, 2};
  for (int k = 0; k < 50; ++k) {
    const auto x = select_exploits(losses, 0.25, rng);
    ASSERT_EQ(x.size(), 2u);
    EXPECT_EQ(x[0].member, 3);
    EXPECT_EQ(x[1].member, 6);
    for (const auto& e : x) EXPECT_TRUE(e.donor == 1 || e.donor == 4);
  }
}

TEST(SelectExploits, CappedAtHalfAndSkipsUnscored) {
  core::Rng rng(2);
  // Five scored of six; q = 0.5 gives ceil(2.5) = 3, capped at floor(5 / 2) = 2.
  const std::vector<double> losses{1, 2, std::nan(""), 3, 4, 5};
  const auto x = select_exploits(losses, 0.5, rng);
  ASSERT_EQ(x.size(), 2u);
  EXPECT_EQ(x[0].member, 4);
  EXPECT_EQ(x[1].member, 5);
  for (const auto& e : x) EXPECT_TRUE(e.donor == 0 || e.donor == 1);
  EXPECT_TRUE(select_exploits({1.0}, 0.25, rng).empty());
  EXPECT_TRUE(select_exploits({std::nan(""), std::nan("")}, 0.25, rng).empty());
}

TEST(SelectExploits, DonorIsUniformOverTheTop) {
  core::Rng rng(3);
  std::vector<double> losses;
  for (int i = 0; i < 12; ++i) losses.push_back(i);  // top 3: members 0, 1, 2
  std::map<int, int> counts;
  const int draws = 6000;
  for (int k = 0; k < draws / 3; ++k) {
    for (const auto& e : select_exploits(losses, 0.25, rng)) ++counts[e.donor];
  }
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [donor, n] : counts) EXPECT_NEAR(n / static_cast<double>(draws), 1.0 / 3.0, 0.03) << donor;
}

core::SearchSpace space() {
  Dimension lr{"lr", DimensionType::kFloat, 1e-5, 1e-2, true, {}, "", {}};
  Dimension lam{"lam", DimensionType::kFloat, 0.8, 0.99, false, {}, "", {}};
  Dimension mb{"mb", DimensionType::kInt, 1, 4, false, {}, "", {}};
  Dimension clip{"clip", DimensionType::kCategorical, 0, 1, false, {"0.1", "0.2", "0.3"}, "", {}};
  Dimension act{"act", DimensionType::kCategorical, 0, 1, false, {"tanh", "relu", "elu"}, "", {}};
  return core::SearchSpace({lr, lam, mb, clip, act});
}

TEST(Explore, PerturbsByTheFactorsAndClipsToBounds) {
  const core::SearchSpace s = space();
  ExploreOptions no_resample;
  no_resample.resample_probability = 0.0;
  core::Rng rng(4);
  const core::Configuration c{{1e-3, 0.95, 2, 1, 0}};
  int up = 0, down = 0;
  for (int k = 0; k < 400; ++k) {
    const core::Configuration n = explore(s, c, no_resample, rng);
    // Log-scaled: exactly x1.2 or x0.8 (in log space), never anything else.
    const double r = n.values[0] / 1e-3;
    EXPECT_TRUE(std::abs(r - 1.2) < 1e-9 || std::abs(r - 0.8) < 1e-9) << r;
    (r > 1 ? up : down)++;
    // Linear: 0.95 x 1.2 is clipped to 0.99.
    EXPECT_TRUE(n.values[1] == 0.99 || std::abs(n.values[1] - 0.76 ) > 1e-9);
    EXPECT_GE(n.values[1], 0.8);
    EXPECT_LE(n.values[1], 0.99);
    // Int 2: x1.2 rounds back to 2 and x0.8 too, so it moves one step.
    EXPECT_TRUE(n.values[2] == 1 || n.values[2] == 3) << n.values[2];
    // Ordered list: one position left or right.
    EXPECT_TRUE(n.values[3] == 0 || n.values[3] == 2);
    // Unordered: resampled, any choice.
    EXPECT_GE(n.values[4], 0);
    EXPECT_LE(n.values[4], 2);
  }
  EXPECT_GT(up, 150);
  EXPECT_GT(down, 150);
}

TEST(Explore, IntAtItsBoundMovesInward) {
  const core::SearchSpace s = space();
  ExploreOptions no_resample;
  no_resample.resample_probability = 0.0;
  core::Rng rng(5);
  for (int k = 0; k < 100; ++k) {
    EXPECT_EQ(explore(s, core::Configuration{{1e-3, 0.9, 4, 2, 0}}, no_resample, rng).values[2], 3);
    const auto n = explore(s, core::Configuration{{1e-3, 0.9, 1, 0, 0}}, no_resample, rng);
    EXPECT_EQ(n.values[2], 2);
    EXPECT_LE(n.values[3], 1);  // the ordered list is clamped at its ends
  }
}

TEST(Explore, ResampleDrawsFromTheWholeDomainAndIsSeeded) {
  const core::SearchSpace s = space();
  ExploreOptions always;
  always.resample_probability = 1.0;
  core::Rng rng(6);
  double lo = 1, hi = 0;
  for (int k = 0; k < 500; ++k) {
    const auto n = explore(s, core::Configuration{{1e-3, 0.9, 2, 1, 0}}, always, rng);
    const double u = s.encode(n)[0];
    lo = std::min(lo, u), hi = std::max(hi, u);
    EXPECT_GE(n.values[0], 1e-5);
    EXPECT_LE(n.values[0], 1e-2);
  }
  EXPECT_LT(lo, 0.05);  // uniform in log space over the whole range
  EXPECT_GT(hi, 0.95);
  core::Rng a(7), b(7);
  const core::Configuration c{{1e-3, 0.9, 2, 1, 0}};
  EXPECT_EQ(explore(s, c, ExploreOptions{}, a), explore(s, c, ExploreOptions{}, b));
  EXPECT_TRUE(ordered_choices(s.dims()[3]));
  EXPECT_FALSE(ordered_choices(s.dims()[4]));
}

}  // namespace
}  // namespace graybox::pbt
