#include "agents/rollout_buffer.hpp"

#include <gtest/gtest.h>

namespace graybox::agents {
namespace {

TEST(RolloutBuffer, GaeMatchesAHandComputation) {
  RolloutBuffer b;
  b.resize(3, 1, 1, 1);
  b.rewards = {1.0f, 2.0f, 3.0f};
  b.values = {0.5f, 1.0f, 1.5f};
  b.dones = {0.0f, 0.0f, 1.0f};  // the observation at t=2 starts a new episode
  const double g = 0.9, l = 0.8;
  b.compute_gae({2.0f}, {0.0f}, g, l);
  // t=2: next is the bootstrap value 2.0 (not done).
  const double d2 = 3.0 + g * 2.0 - 1.5;
  const double a2 = d2;
  // t=1: the next observation starts an episode, so no bootstrap and no carry.
  const double d1 = 2.0 - 1.0;
  const double a1 = d1;
  // t=0: ordinary step.
  const double d0 = 1.0 + g * 1.0 - 0.5;
  const double a0 = d0 + g * l * a1;
  EXPECT_NEAR(b.advantages[2], a2, 1e-6);
  EXPECT_NEAR(b.advantages[1], a1, 1e-6);
  EXPECT_NEAR(b.advantages[0], a0, 1e-6);
  EXPECT_NEAR(b.returns[0], a0 + 0.5, 1e-6);
}

TEST(RolloutBuffer, EnvsAreIndependent) {
  RolloutBuffer b;
  b.resize(2, 2, 1, 1);
  b.rewards = {1.0f, 0.0f, 1.0f, 0.0f};  // env 0 gets reward 1, env 1 gets 0
  b.values = {0.0f, 0.0f, 0.0f, 0.0f};
  b.compute_gae({0.0f, 0.0f}, {1.0f, 1.0f}, 0.99, 0.95);
  EXPECT_NEAR(b.advantages[1], 0.0, 1e-7);
  EXPECT_NEAR(b.advantages[3], 0.0, 1e-7);
  EXPECT_NEAR(b.advantages[2], 1.0, 1e-7);
  EXPECT_NEAR(b.advantages[0], 1.0 + 0.99 * 0.95 * 1.0, 1e-6);
}

}  // namespace
}  // namespace graybox::agents
