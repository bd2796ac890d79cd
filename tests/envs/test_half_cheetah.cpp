// HalfCheetah-v5 against the spec.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "envs/env.hpp"
#include "tests/envs/env_test_util.hpp"

namespace graybox::envs {
namespace {

using testing::as_mujoco;
using testing::term;

TEST(HalfCheetah, SpecAndModel) {
  auto env = make_env("HalfCheetah-v5");
  const EnvSpec& s = env->spec();
  EXPECT_EQ(s.obs_dim, 17);
  EXPECT_EQ(s.act_dim, 6);
  EXPECT_EQ(s.act_low, std::vector<double>(6, -1.0));
  EXPECT_EQ(s.act_high, std::vector<double>(6, 1.0));
  EXPECT_EQ(s.frame_skip, 5);
  EXPECT_DOUBLE_EQ(s.dt, 0.05);
  const mjModel* m = as_mujoco(*env).model();
  EXPECT_EQ(m->nq, 9);
  EXPECT_EQ(m->opt.timestep, 0.01);
  EXPECT_EQ(m->opt.integrator, mjINT_EULER);
  double total = 0.0;
  for (int b = 0; b < m->nbody; ++b) total += m->body_mass[b];
  EXPECT_NEAR(total, 14.0, 1e-9);
  const double gears[6] = {120, 90, 60, 120, 60, 30};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(m->actuator_gear[6 * i], gears[i]);
  const double stiffness[6] = {240, 180, 120, 180, 120, 60};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(m->jnt_stiffness[3 + i], stiffness[i]);
  EXPECT_EQ(m->dof_armature[3], 0.1);
  EXPECT_NEAR(m->qpos0[1], 0.0, 0.0);  // rootz has no ref: q1 is the offset from 0.7
}

TEST(HalfCheetah, RewardTermsOnKnownState) {
  auto env = make_env("HalfCheetah-v5");
  std::vector<double> obs(17);
  env->reset(3, obs.data());
  EnvState s = env->state();
  s.qvel[0] = 2.0;
  env->set_state(s);
  const double x_before = s.qpos[0];
  const std::vector<double> a = {0.5, -0.5, 0.25, 1.0, -1.0, 0.0};
  const StepResult r = env->step(a.data(), obs.data());
  const mjData* d = as_mujoco(*env).data();
  const double forward = (d->qpos[0] - x_before) / 0.05;
  const double ctrl = 0.1 * (0.25 + 0.25 + 0.0625 + 1.0 + 1.0);
  EXPECT_NEAR(term(env->reward_terms(), "forward"), forward, 1e-12);
  EXPECT_NEAR(term(env->reward_terms(), "ctrl_cost"), -ctrl, 1e-15);
  EXPECT_NEAR(r.reward, forward - ctrl, 1e-12);
  EXPECT_FALSE(r.terminated);
  // obs = [q1..8, qd0..8], no clipping
  for (int i = 0; i < 8; ++i) EXPECT_EQ(obs[static_cast<std::size_t>(i)], d->qpos[i + 1]);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(obs[static_cast<std::size_t>(8 + i)], d->qvel[i]);
}

TEST(HalfCheetah, WeightsAndObservationOptions) {
  EnvOptions options;
  options.params["forward_reward_weight"] = 0.0;
  options.params["ctrl_cost_weight"] = 1.0;
  options.params["exclude_current_positions_from_observation"] = 0;
  auto env = make_env("HalfCheetah-v5", options);
  EXPECT_EQ(env->spec().obs_dim, 18);
  std::vector<double> obs(18);
  env->reset(3, obs.data());
  EXPECT_EQ(obs[0], as_mujoco(*env).data()->qpos[0]);
  const std::vector<double> a(6, 0.5);
  const StepResult r = env->step(a.data(), obs.data());
  EXPECT_EQ(term(env->reward_terms(), "forward"), 0.0);
  EXPECT_NEAR(r.reward, -1.5, 1e-15);
}

TEST(HalfCheetah, ResetNoiseDistributions) {
  auto env = make_env("HalfCheetah-v5");
  std::vector<double> obs(17);
  double sum = 0.0, sum_sq = 0.0, max_q = 0.0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    env->reset(static_cast<std::uint64_t>(i), obs.data());
    const mjData* d = as_mujoco(*env).data();
    for (int j = 0; j < 9; ++j) {
      EXPECT_LE(std::fabs(d->qpos[j]), 0.1);  // qpos0 = 0, uniform +-0.1
      max_q = std::max(max_q, std::fabs(d->qpos[j]));
      sum += d->qvel[j];
      sum_sq += d->qvel[j] * d->qvel[j];
    }
  }
  const double count = 9.0 * n;
  const double mean = sum / count;
  const double sd = std::sqrt(sum_sq / count - mean * mean);
  EXPECT_GT(max_q, 0.099);
  EXPECT_LT(std::fabs(mean), 0.005);   // normal, sd 0.1: sd of the mean ~ 0.0008
  EXPECT_NEAR(sd, 0.1, 0.004);
}

TEST(HalfCheetah, NeverTerminates) {
  auto env = make_env("HalfCheetah-v5");
  std::vector<double> obs(17);
  env->reset(5, obs.data());
  core::Rng rng(9);
  for (int i = 1; i <= 1000; ++i) {
    const auto a = testing::random_action(env->spec(), rng);
    const StepResult r = env->step(a.data(), obs.data());
    ASSERT_FALSE(r.terminated);
    ASSERT_FALSE(r.unstable);
    ASSERT_EQ(r.truncated, i == 1000);
  }
}

}  // namespace
}  // namespace graybox::envs
