#include "agents/normalizers.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace graybox::agents {
namespace {

TEST(RunningMeanStd, MergesBatchesLikeOnePass) {
  RunningMeanStd a(2), b(2);
  const double rows[] = {1, 10, 2, 20, 3, 30, 4, 40, 5, 50};
  a.update(rows, 5);
  b.update(rows, 2);
  b.update(rows + 4, 3);
  for (int j = 0; j < 2; ++j) {
    EXPECT_NEAR(a.mean[j], b.mean[j], 1e-12);
    EXPECT_NEAR(a.var[j], b.var[j], 1e-9);
  }
  // With the 1e-4 prior count, the statistics are those of the data to ~1e-4.
  EXPECT_NEAR(a.mean[0], 3.0, 1e-3);
  EXPECT_NEAR(a.var[0], 2.0, 1e-3);
  EXPECT_NEAR(a.count, 5.0001, 1e-12);
}

TEST(ObsNormalizer, NormalisesAndClips) {
  ObsNormalizer norm(1, 2.0, true);
  norm.rms.mean = {1.0};
  norm.rms.var = {4.0};
  const double x[] = {3.0, 100.0, -100.0};
  float out[3];
  norm.normalize(x, 3, out);
  EXPECT_NEAR(out[0], 1.0, 1e-6);
  EXPECT_FLOAT_EQ(out[1], 2.0f);
  EXPECT_FLOAT_EQ(out[2], -2.0f);
  ObsNormalizer off(1, 2.0, false);
  off.normalize(x, 1, out);
  EXPECT_FLOAT_EQ(out[0], 3.0f);
}

TEST(RewardScaler, DividesByTheStdOfTheDiscountedReturn) {
  RewardScaler scaler(1, 10.0, true);
  const std::uint8_t not_done[] = {0};
  const double gamma = 0.9;
  // Feed a constant reward: returns 1, 1.9, 2.71 ...; check against a hand computation.
  RunningMeanStd reference(1);
  double g = 0;
  for (int t = 0; t < 20; ++t) {
    double r = 1.0;
    scaler.scale(&r, not_done, gamma);
    g = g * gamma + 1.0;
    reference.update(&g, 1);
    EXPECT_NEAR(r, std::clamp(1.0 / std::sqrt(reference.var[0] + 1e-8), -10.0, 10.0), 1e-12);
  }
  // A terminated step resets the running return.
  const std::uint8_t done[] = {1};
  double r = 1.0;
  scaler.scale(&r, done, gamma);
  EXPECT_DOUBLE_EQ(scaler.returns[0], 1.0);
}

}  // namespace
}  // namespace graybox::agents
