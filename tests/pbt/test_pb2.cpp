// PB2's time-varying kernel and GP against hand-computed values, and its suggestions.
#include <gtest/gtest.h>

#include <cmath>

#include "pbt/pb2.hpp"

namespace graybox::pbt {
namespace {

TEST(TimeVaryingGp, KernelMatchesTheFormula) {
  TimeVaryingKernel::Params p;
  p.signal_variance = 2.0;
  p.lengthscale = 0.5;
  p.epsilon = 0.2;
  p.noise_variance = 0.01;
  const TimeVaryingKernel kernel(p);
  controllers::GaussianProcess gp(kernel, false);
  Eigen::MatrixXd x(1, 3);
  x << 0.2, 0.1, 0.5;
  Eigen::VectorXd y(1);
  y << 1.5;
  gp.condition(x, y);
  Eigen::VectorXd a(3), b(3);
  a << 0.2, 0.1, 0.5;
  b << 0.6, 0.3, 0.1;
  // |a' - b'|^2 = 0.2^2 + 0.4^2 = 0.2; |t - t'| = 0.4:
  // k = 2 exp(-0.2 / 0.5) 0.8^(0.4 / 2) = 1.2821245033711126
  EXPECT_NEAR(kernel(a, b), 1.2821245033711126, 1e-12);
  EXPECT_NEAR(kernel(a, a), 2.0, 1e-12);

  // One data point: mean = k y / (s2 + noise), variance = s2 - k^2 / (s2 + noise).
  double mean = 0, var = 0;
  gp.predict(b, mean, var);
  const double k = 1.2821245033711126;
  EXPECT_NEAR(mean, k * 1.5 / 2.01, 1e-12);
  EXPECT_NEAR(var, 2.0 - k * k / 2.01, 1e-12);
  // Log marginal likelihood of one point: -y^2 / (2 v) - log(v) / 2 - log(2 pi) / 2, v = 2.01.
  EXPECT_NEAR(gp.log_marginal_likelihood(kernel.theta()), -1.5 * 1.5 / 4.02 - 0.5 * std::log(2.01) - 0.5 * std::log(2 * M_PI), 1e-12);
}

TEST(TimeVaryingGp, OlderDataCountsLess) {
  TimeVaryingKernel::Params p;
  p.epsilon = 0.5;
  const TimeVaryingKernel kernel(p);
  Eigen::VectorXd same(2), later(2);
  same << 0.0, 0.5;
  later << 1.0, 0.5;
  EXPECT_NEAR(kernel(same, later), std::pow(0.5, 0.5), 1e-12);
}

TEST(TimeVaryingGp, FitKeepsEpsilonInRange) {
  core::Rng rng(1);
  Eigen::MatrixXd x(12, 3);
  Eigen::VectorXd y(12);
  for (int i = 0; i < 12; ++i) {
    x(i, 0) = i / 11.0, x(i, 1) = rng.uniform(), x(i, 2) = rng.uniform();
    y(i) = std::sin(4 * x(i, 2)) + 0.1 * rng.normal();
  }
  controllers::GaussianProcess gp = make_pb2_gp();
  gp.fit(x, y, rng, pb2_fit_options());
  const auto& fitted = static_cast<const TimeVaryingKernel&>(gp.kernel()).params();
  EXPECT_GE(fitted.epsilon, 0.0);
  EXPECT_LE(fitted.epsilon, 0.5);
  EXPECT_GT(fitted.signal_variance, 0.0);
  double mean = 0, var = 0;
  gp.predict(x.row(3).transpose(), mean, var);
  EXPECT_NEAR(mean, y(3), 0.5);
}

TEST(Pb2, BetaFollowsRay) {
  EXPECT_NEAR(pb2_beta(10), 0.2 + std::log(4.0), 1e-12);
  EXPECT_NEAR(pb2_beta(1), 0.2, 1e-12);  // log(0.4) < 0 is floored at 0
}

TEST(Pb2, SuggestsInBoundsTowardsTheBetterRegion) {
  core::Dimension lr{"lr", core::DimensionType::kFloat, 1e-4, 1e-1, true, {}, "", {}};
  core::Dimension n{"n", core::DimensionType::kInt, 1, 8, false, {}, "", {}};
  const core::SearchSpace space({lr, n});
  core::Rng rng(2);
  // Improvement grows with log lr: the best lr is at the top of the range.
  std::vector<Pb2Point> data;
  for (int i = 0; i < 30; ++i) {
    const core::Configuration c = space.sample(rng);
    const double u = space.encode(c)[0];
    data.push_back({static_cast<double>(i / 4), 0.0, c, u + 0.01 * rng.normal()});
  }
  const core::Configuration base{{1e-3, 3}};
  core::Rng a(3), b(3);
  const core::Configuration s = pb2_suggest(space, data, {}, 8.0, 0.0, base, a);
  EXPECT_EQ(s, pb2_suggest(space, data, {}, 8.0, 0.0, base, b));  // seeded
  EXPECT_GE(s.values[0], 1e-4);
  EXPECT_LE(s.values[0], 1e-1);
  EXPECT_GT(space.encode(s)[0], 0.6);
  EXPECT_EQ(s.values[1], std::round(s.values[1]));
  // Too little data: the base comes back.
  EXPECT_EQ(pb2_suggest(space, {data[0]}, {}, 1.0, 0.0, base, a), base);
}

}  // namespace
}  // namespace graybox::pbt
