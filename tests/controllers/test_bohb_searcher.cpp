// BOHB's model against HpBandSter's rules and statsmodels' numbers.
#include "controllers/bohb_searcher.hpp"

#include <gtest/gtest.h>

#include "core/yaml.hpp"

namespace graybox::controllers {
namespace {

// Expected values: statsmodels 0.13 KDEMultivariate(bw="normal_reference") on the same data.
TEST(BohbKde, NormalReferenceBandwidthsAndDensityMatchStatsmodels) {
  const BohbKde kde({{0.1, 0.2}, {0.15, 0.22}, {0.3, 0.1}, {0.12, 0.4}}, {0, 0});
  EXPECT_NEAR(kde.bandwidth[0], 0.06607864341237349, 1e-12);
  EXPECT_NEAR(kde.bandwidth[1], 0.09100294861278946, 1e-12);
  EXPECT_NEAR(kde.pdf({0.2, 0.25}), 7.87563903, 1e-7);

  // A number and a category of three (HpBandSter gives statsmodels the category's index).
  const auto c = [](int k) { return (k + 0.5) / 3.0; };
  const BohbKde mixed({{0.1, c(0)}, {0.5, c(2)}, {0.3, c(2)}, {0.9, c(1)}, {0.2, c(2)}}, {0, 3});
  EXPECT_NEAR(mixed.bandwidth[0], 0.2292745543894822, 1e-12);
  EXPECT_NEAR(mixed.bandwidth[1], 0.6484863686493071, 1e-12);
  EXPECT_NEAR(mixed.pdf({0.25, c(2)}), 0.3995405, 1e-7);

  // Identical points: the bandwidth is floored at 1e-3.
  EXPECT_EQ(BohbKde({{0.5}, {0.5}, {0.5}}, {0}).bandwidth[0], BohbSearcher::kMinBandwidth);
}

// In 2-d, 5 results split into 3 good and 2 bad: no model (HpBandSter needs more than d points
// in each set); 6 results (3 and 3) make one. Proposals then come from the budget with a model.
TEST(Bohb, AModelNeedsMoreThanDPointsInEachSet) {
  const core::SearchSpace space = core::SearchSpace::from_yaml(
      YAML::Load("x: {type: float, low: 0, high: 1}\ny: {type: float, low: 0, high: 1}\n"), "t");
  BohbSearcher bohb(space);
  // Budget 3: good near x = 0.1. Budget 9 (5 results): good near x = 0.9.
  const std::vector<double> low_x = {0.08, 0.1, 0.12, 0.6, 0.7, 0.8};
  for (std::size_t i = 0; i < low_x.size(); ++i) {
    bohb.observe({core::Configuration{{low_x[i], 0.1 * static_cast<double>(i)}}, 3, static_cast<double>(i)});
  }
  const std::vector<double> high_x = {0.9, 0.88, 0.92, 0.2, 0.3};
  for (std::size_t i = 0; i < high_x.size(); ++i) {
    bohb.observe({core::Configuration{{high_x[i], 0.1 * static_cast<double>(i)}}, 9, static_cast<double>(i)});
  }
  EXPECT_EQ(bohb.model_budget(), 3);
  core::Rng rng(5);
  int near_low = 0;
  for (int k = 0; k < 300; ++k) near_low += bohb.propose(rng, 1).values[0] < 0.3;
  EXPECT_GT(near_low, 150);  // 2/3 from the model around x = 0.1, a third random

  bohb.observe({core::Configuration{{0.1, 0.5}}, 9, 10.0});  // the 6th result at budget 9
  EXPECT_EQ(bohb.model_budget(), 9);
}

}  // namespace
}  // namespace graybox::controllers
