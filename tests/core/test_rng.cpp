#include "core/rng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace graybox::core {
namespace {

TEST(Rng, SameSeedSameNumbers) {
  Rng a(42), b(42);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(a.next_u64(), b.next_u64());
    EXPECT_EQ(a.normal(), b.normal());
  }
}

TEST(Rng, StateRoundTripIncludesTheCachedNormal) {
  Rng a(7);
  a.normal();  // leaves a cached second value
  Rng b(0);
  b.set_state(a.state());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.normal(), b.normal());
  EXPECT_EQ(a.uniform(), b.uniform());
}

TEST(Rng, DerivedStreamsDiffer) {
  EXPECT_NE(derive_seed(1, Stream::kEnv, 0), derive_seed(1, Stream::kEnv, 1));
  EXPECT_NE(derive_seed(1, Stream::kEnv, 0), derive_seed(1, Stream::kAgent, 0));
  EXPECT_NE(derive_seed(1, Stream::kEnv, 0), derive_seed(2, Stream::kEnv, 0));
  EXPECT_EQ(derive_seed(1, Stream::kEnv, 3), derive_seed(1, Stream::kEnv, 3));
}

TEST(Rng, DistributionsHaveTheRightMoments) {
  Rng rng(3);
  const int n = 200000;
  double sum = 0, sq = 0, usum = 0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.normal();
    sum += x;
    sq += x * x;
    const double u = rng.uniform(-2.0, 2.0);
    ASSERT_GE(u, -2.0);
    ASSERT_LT(u, 2.0);
    usum += u;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, 1.0, 0.01);
  EXPECT_NEAR(usum / n, 0.0, 0.02);
}

TEST(Rng, ShuffleIsAPermutation) {
  Rng rng(5);
  std::vector<int> v(100);
  for (int i = 0; i < 100; ++i) v[i] = i;
  rng.shuffle(v.begin(), v.end());
  std::vector<int> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(v[0] * 1000 + v[1], 1);  // not the identity (probability ~1e-4 per seed)
}

}  // namespace
}  // namespace graybox::core
