// InvertedDoublePendulum-v5 and -v4 against the spec.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "envs/env.hpp"
#include "tests/envs/env_test_util.hpp"

namespace graybox::envs {
namespace {

using testing::as_mujoco;
using testing::step_from;
using testing::term;

TEST(InvertedDoublePendulum, SpecAndModel) {
  for (const char* id : {"InvertedDoublePendulum-v5", "InvertedDoublePendulum-v4"}) {
    auto env = make_env(id);
    const EnvSpec& s = env->spec();
    EXPECT_EQ(s.obs_dim, std::string(id).back() == '5' ? 9 : 11);
    EXPECT_EQ(s.act_dim, 1);
    EXPECT_EQ(s.act_low, std::vector<double>{-1.0});
    EXPECT_EQ(s.act_high, std::vector<double>{1.0});
    EXPECT_EQ(s.frame_skip, 5);
    EXPECT_DOUBLE_EQ(s.dt, 0.05);
    EXPECT_EQ(s.max_episode_steps, 1000);
    EXPECT_EQ(s.reward_threshold, 9100.0);
    const mjModel* m = as_mujoco(*env).model();
    EXPECT_EQ(m->opt.integrator, mjINT_RK4);
    EXPECT_EQ(m->opt.gravity[0], 1e-5);
    EXPECT_EQ(m->opt.gravity[2], -9.81);
    EXPECT_EQ(m->actuator_gear[0], 500.0);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(m->dof_damping[i], 0.05);
    EXPECT_EQ(m->jnt_limited[0], 1);
    EXPECT_EQ(m->jnt_limited[1], 0);
    EXPECT_EQ(m->jnt_limited[2], 0);
  }
  // Upright, the tip is 1.2 high.
  auto env = testing::make_with("InvertedDoublePendulum-v5", {{"reset_noise_scale", 0.0}});
  std::vector<double> obs(9);
  env->reset(1, obs.data());
  const mjModel* m = as_mujoco(*env).model();
  const int tip = mj_name2id(m, mjOBJ_SITE, "tip");
  EXPECT_NEAR(as_mujoco(*env).data()->site_xpos[3 * tip + 2], 1.2, 1e-12);
}

// The spec's reward terms from the state after the step.
void expect_terms(Env& env, const StepResult& r, double alive) {
  const mjModel* m = as_mujoco(env).model();
  const mjData* d = as_mujoco(env).data();
  const int tip = mj_name2id(m, mjOBJ_SITE, "tip");
  const double x = d->site_xpos[3 * tip], z = d->site_xpos[3 * tip + 2];
  const double dist = 0.01 * x * x + (z - 2) * (z - 2);
  const double vel = 1e-3 * d->qvel[1] * d->qvel[1] + 5e-3 * d->qvel[2] * d->qvel[2];
  EXPECT_EQ(r.terminated, z <= 1.0);
  EXPECT_EQ(term(env.reward_terms(), "alive"), alive);
  EXPECT_NEAR(term(env.reward_terms(), "distance_cost"), -dist, 1e-12);
  EXPECT_NEAR(term(env.reward_terms(), "velocity_cost"), -vel, 1e-12);
  EXPECT_NEAR(r.reward, alive - dist - vel, 1e-12);
}

TEST(InvertedDoublePendulum, RewardTermsAndObservation) {
  for (const char* id : {"InvertedDoublePendulum-v5", "InvertedDoublePendulum-v4"}) {
    auto env = make_env(id);
    std::vector<double> obs;
    // The cart against its limit: the slider's constraint force is non-zero.
    const StepResult r = step_from(*env, {0.998, 0.05, -0.04}, {3.0, 0.5, -0.3}, {0.7}, &obs);
    expect_terms(*env, r, 10.0);
    EXPECT_FALSE(r.terminated);
    const mjData* d = as_mujoco(*env).data();
    const std::vector<double> want_head = {d->qpos[0], std::sin(d->qpos[1]), std::sin(d->qpos[2]),
                                           std::cos(d->qpos[1]), std::cos(d->qpos[2])};
    EXPECT_EQ(std::vector<double>(obs.begin(), obs.begin() + 5), want_head) << id;
    for (int i = 0; i < 3; ++i) EXPECT_EQ(obs[static_cast<std::size_t>(5 + i)], std::clamp(d->qvel[i], -10.0, 10.0));
    const int nc = env->spec().obs_dim - 8;
    for (int i = 0; i < nc; ++i) {
      EXPECT_EQ(obs[static_cast<std::size_t>(8 + i)], std::clamp(d->qfrc_constraint[i], -10.0, 10.0)) << id;
    }
    EXPECT_NE(obs[8], 0.0) << id << ": the slider limit should push";
  }
  // Velocities are clipped to +-10.
  auto env = make_env("InvertedDoublePendulum-v5");
  std::vector<double> obs;
  step_from(*env, {0, 0, 0}, {-20, 40, 0}, {0.0}, &obs);
  const mjData* d = as_mujoco(*env).data();
  int saturated = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(obs[static_cast<std::size_t>(5 + i)], std::clamp(d->qvel[i], -10.0, 10.0));
    if (std::fabs(d->qvel[i]) > 10.0) ++saturated;
  }
  EXPECT_GT(saturated, 0);
}

TEST(InvertedDoublePendulum, TerminationAndTheV4AliveBonus) {
  // Tip at 1.2 cos(q1): 1.2 cos(0.5) = 1.05 stays up, 1.2 cos(0.7) = 0.92 ends the episode.
  for (const char* id : {"InvertedDoublePendulum-v5", "InvertedDoublePendulum-v4"}) {
    const bool v4 = std::string(id).back() == '4';
    auto env = make_env(id);
    StepResult r = step_from(*env, {0, 0.5, 0}, {0, 0, 0}, {0.0});
    EXPECT_FALSE(r.terminated) << id;
    expect_terms(*env, r, 10.0);
    r = step_from(*env, {0, 0.7, 0}, {0, 0, 0}, {0.0});
    EXPECT_TRUE(r.terminated) << id;
    expect_terms(*env, r, v4 ? 10.0 : 0.0);
  }
}

TEST(InvertedDoublePendulum, ResetNoise) {
  auto env = make_env("InvertedDoublePendulum-v5");
  std::vector<double> obs(9);
  double sum_sq = 0.0, max_q = 0.0;
  int n = 0;
  for (int i = 0; i < 400; ++i) {
    env->reset(static_cast<std::uint64_t>(500 + i), obs.data());
    const mjData* d = as_mujoco(*env).data();
    for (int j = 0; j < 3; ++j) {
      EXPECT_LE(std::fabs(d->qpos[j]), 0.1);
      max_q = std::max(max_q, std::fabs(d->qpos[j]));
      sum_sq += d->qvel[j] * d->qvel[j];
      ++n;
    }
  }
  EXPECT_GT(max_q, 0.099);
  const double sd = std::sqrt(sum_sq / n);
  EXPECT_NEAR(sd, 0.1, 0.01) << "qvel ~ N(0, 0.1^2)";
}

}  // namespace
}  // namespace graybox::envs
