// The rliable statistics against values worked out by hand.
#include "core/statistics.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace graybox::core {
namespace {

TEST(Statistics, PointEstimates) {
  EXPECT_DOUBLE_EQ(mean({1, 2, 3, 4}), 2.5);
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2.0);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(quantile({0, 10, 20, 30, 40}, 0.1), 4.0);  // position 0.4 between 0 and 10
  // 8 runs: 2 dropped from each end, the mean of 3, 4, 5, 6.
  EXPECT_DOUBLE_EQ(interquartile_mean({8, 1, 7, 2, 6, 3, 5, 4}), 4.5);
  // 5 runs: floor(5/4) = 1 from each end; the outlier does not count.
  EXPECT_DOUBLE_EQ(interquartile_mean({100, 1, 2, 3, 4}), 3.0);
  // 3 runs: nothing dropped.
  EXPECT_DOUBLE_EQ(interquartile_mean({1, 2, 9}), 4.0);
  EXPECT_THROW(mean({}), std::invalid_argument);
}

TEST(Statistics, PercentileIntervalOfReplicates) {
  std::vector<double> replicates;
  for (int k = 0; k <= 100; ++k) replicates.push_back(k);
  const Interval i = percentile_interval(7.0, replicates);
  EXPECT_DOUBLE_EQ(i.point, 7.0);
  EXPECT_NEAR(i.low, 2.5, 1e-9);    // position 0.025 * 100 (0.05 / 2 is not exact in binary)
  EXPECT_NEAR(i.high, 97.5, 1e-9);  // position 0.975 * 100
}

TEST(Statistics, BootstrapIntervalOfTwoRuns) {
  // One task with runs {0, 1}: a replicate's mean is 0, 0.5 or 1 with probabilities 1/4, 1/2,
  // 1/4, so the 2.5 % and 97.5 % quantiles of 2000 replicates are 0 and 1.
  const Interval i = aggregate_interval({{0.0, 1.0}}, [](const std::vector<double>& x) { return mean(x); }, 2000, 5);
  EXPECT_DOUBLE_EQ(i.point, 0.5);
  EXPECT_DOUBLE_EQ(i.low, 0.0);
  EXPECT_DOUBLE_EQ(i.high, 1.0);
}

TEST(Statistics, BootstrapIsStratifiedByTask) {
  // Task A scores 0 in every run, task B 1: each replicate keeps 4 runs of each, so the pooled
  // mean is 0.5 in every replicate (resampling the pooled runs would spread it).
  const TaskScores scores{{0, 0, 0, 0}, {1, 1, 1, 1}};
  const Interval i = aggregate_interval(scores, [](const std::vector<double>& x) { return mean(x); }, 500, 1);
  EXPECT_DOUBLE_EQ(i.low, 0.5);
  EXPECT_DOUBLE_EQ(i.high, 0.5);
}

TEST(Statistics, BootstrapIsSeeded) {
  const TaskScores scores{{0.3, 1.7, 2.2, 0.9, 1.1, 3.0}, {10.0, 12.5, 9.1, 11.0, 8.7, 10.4}};
  const auto iqm = [](const std::vector<double>& x) { return interquartile_mean(x); };
  const Interval a = aggregate_interval(scores, iqm, 1000, 42), b = aggregate_interval(scores, iqm, 1000, 42);
  const Interval c = aggregate_interval(scores, iqm, 1000, 43);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  EXPECT_TRUE(a.low != c.low || a.high != c.high);
  EXPECT_LE(a.low, a.point);
  EXPECT_GE(a.high, a.point);
}

TEST(Statistics, ProbabilityOfImprovement) {
  // Task 1: X {3, 1} vs Y {2, 2}: 3 beats both, 1 neither: 2 of 4 pairs.
  EXPECT_DOUBLE_EQ(probability_of_improvement({{3, 1}}, {{2, 2}}), 0.5);
  // Task 2: X {2, 3} vs Y {2, 1}: a tie (1/2) and three wins: 3.5 of 4.
  EXPECT_DOUBLE_EQ(probability_of_improvement({{2, 3}}, {{2, 1}}), 0.875);
  // Averaged over the two tasks.
  EXPECT_DOUBLE_EQ(probability_of_improvement({{3, 1}, {2, 3}}, {{2, 2}, {2, 1}}), 0.6875);
  // A method better in every run is better in every replicate.
  const Interval i = probability_of_improvement_interval({{5, 6, 7}, {1, 2}}, {{1, 2, 3}, {0, 0.5}}, 500, 3);
  EXPECT_DOUBLE_EQ(i.point, 1.0);
  EXPECT_DOUBLE_EQ(i.low, 1.0);
  EXPECT_DOUBLE_EQ(i.high, 1.0);
  EXPECT_THROW(probability_of_improvement({{1}}, {{1}, {2}}), std::invalid_argument);
}

TEST(Statistics, PerformanceProfile) {
  // Task 1: 2 of 4 runs above 0.4; task 2: 1 of 2 above 0.4. Each task weighs a half.
  const TaskScores scores{{0.1, 0.5, 0.9, 0.3}, {0.45, 0.2}};
  const std::vector<double> p = performance_profile(scores, {0.0, 0.4, 0.6, 1.0});
  ASSERT_EQ(p.size(), 4u);
  EXPECT_DOUBLE_EQ(p[0], 1.0);
  EXPECT_DOUBLE_EQ(p[1], 0.5);
  EXPECT_DOUBLE_EQ(p[2], 0.125);  // (1/4 + 0) / 2
  EXPECT_DOUBLE_EQ(p[3], 0.0);
}

}  // namespace
}  // namespace graybox::core
