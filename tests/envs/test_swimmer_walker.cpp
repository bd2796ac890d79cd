// Swimmer and Walker2d (v5 and v4), plus the v4 variants of the first three tasks, against the
// spec.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "envs/env.hpp"
#include "tests/envs/env_test_util.hpp"

namespace graybox::envs {
namespace {

using testing::as_mujoco;
using testing::same_bits;
using testing::step_from;
using testing::term;

// Two ids whose behaviour the spec calls identical step bit-identically.
void expect_same_trajectories(const std::string& a_id, const std::string& b_id, int steps) {
  auto a = make_env(a_id);
  auto b = make_env(b_id);
  const EnvSpec& spec = a->spec();
  std::vector<double> oa(static_cast<std::size_t>(spec.obs_dim)), ob(oa.size());
  a->reset(5, oa.data());
  b->reset(5, ob.data());
  core::Rng rng(6);
  for (int i = 0; i < steps; ++i) {
    const auto act = testing::random_action(spec, rng);
    const StepResult ra = a->step(act.data(), oa.data());
    const StepResult rb = b->step(act.data(), ob.data());
    ASSERT_TRUE(same_bits(oa, ob)) << a_id << " vs " << b_id << " step " << i;
    ASSERT_TRUE(same_bits(ra.reward, rb.reward));
    ASSERT_EQ(ra.terminated, rb.terminated);
  }
}

TEST(Swimmer, SpecAndModel) {
  for (const char* id : {"Swimmer-v5", "Swimmer-v4"}) {
    auto env = make_env(id);
    const EnvSpec& s = env->spec();
    EXPECT_EQ(s.obs_dim, 8);
    EXPECT_EQ(s.act_dim, 2);
    EXPECT_EQ(s.act_low, std::vector<double>(2, -1.0));
    EXPECT_EQ(s.frame_skip, 4);
    EXPECT_DOUBLE_EQ(s.dt, 0.04);
    EXPECT_EQ(s.reward_threshold, 360.0);
    const mjModel* m = as_mujoco(*env).model();
    EXPECT_EQ(m->opt.integrator, mjINT_RK4);
    EXPECT_EQ(m->opt.density, 4000.0);
    EXPECT_EQ(m->opt.viscosity, 0.1);
    EXPECT_EQ(m->actuator_gear[0], 150.0);
    for (int g = 1; g < m->ngeom; ++g) EXPECT_EQ(m->geom_contype[g], 0) << "body geoms do not collide";
  }
  EXPECT_EQ(testing::make_with("Swimmer-v5", {{"exclude_current_positions_from_observation", 0}})->spec().obs_dim, 10);
}

TEST(Swimmer, RewardObservationAndReset) {
  auto env = testing::make_with("Swimmer-v5", {{"forward_reward_weight", 2.0}, {"ctrl_cost_weight", 0.01}});
  std::vector<double> obs;
  const std::vector<double> a = {1.0, -0.6};
  const StepResult r = step_from(*env, {0.1, 0.2, 0.3, 0.4, -0.2}, {1.0, 0, 0.5, 0, 0}, a, &obs);
  const mjData* d = as_mujoco(*env).data();
  const double forward = 2.0 * (d->qpos[0] - 0.1) / 0.04;
  EXPECT_NEAR(term(env->reward_terms(), "forward"), forward, 1e-12);
  EXPECT_NEAR(term(env->reward_terms(), "ctrl_cost"), -0.01 * 1.36, 1e-15);
  EXPECT_NEAR(r.reward, forward - 0.0136, 1e-12);
  EXPECT_GT(forward, 0.0);
  std::vector<double> want(d->qpos + 2, d->qpos + 5);
  want.insert(want.end(), d->qvel, d->qvel + 5);
  EXPECT_EQ(obs, want);

  double max_abs = 0.0;
  for (int i = 0; i < 300; ++i) {
    env->reset(static_cast<std::uint64_t>(i), obs.data());
    for (int j = 0; j < 5; ++j) {
      EXPECT_LE(std::fabs(d->qpos[j]), 0.1);
      EXPECT_LE(std::fabs(d->qvel[j]), 0.1);
      max_abs = std::max(max_abs, std::fabs(d->qvel[j]));
    }
  }
  EXPECT_GT(max_abs, 0.099);
}

TEST(V4, IdenticalToV5WhereTheSpecSaysSo) {
  expect_same_trajectories("Swimmer-v5", "Swimmer-v4", 200);
  expect_same_trajectories("HalfCheetah-v5", "HalfCheetah-v4", 200);
}

TEST(V4, InvertedPendulumPaysTheTerminalStep) {
  for (const char* id : {"InvertedPendulum-v5", "InvertedPendulum-v4"}) {
    auto env = make_env(id);
    const StepResult r = step_from(*env, {0, 0.3}, {0, 0}, {0.0});
    EXPECT_TRUE(r.terminated);
    EXPECT_EQ(r.reward, std::string(id).back() == '4' ? 1.0 : 0.0) << id;
  }
}

TEST(V4, HopperPaysTheHealthyRewardOnTheTerminalStep) {
  for (const char* id : {"Hopper-v5", "Hopper-v4"}) {
    auto env = make_env(id);
    const StepResult r = step_from(*env, {0, 1.25, 0.25, 0, 0, 0}, std::vector<double>(6, 0.0), {0, 0, 0});
    EXPECT_TRUE(r.terminated);
    EXPECT_EQ(term(env->reward_terms(), "healthy"), std::string(id).back() == '4' ? 1.0 : 0.0) << id;
  }
  // Without termination, v4 pays only while healthy.
  auto env = testing::make_with("Hopper-v4", {{"terminate_when_unhealthy", 0}});
  const StepResult r = step_from(*env, {0, 1.25, 0.25, 0, 0, 0}, std::vector<double>(6, 0.0), {0, 0, 0});
  EXPECT_FALSE(r.terminated);
  EXPECT_EQ(term(env->reward_terms(), "healthy"), 0.0);
}

TEST(Walker2d, SpecAndModel) {
  for (const char* id : {"Walker2d-v5", "Walker2d-v4"}) {
    auto env = make_env(id);
    const EnvSpec& s = env->spec();
    EXPECT_EQ(s.obs_dim, 17);
    EXPECT_EQ(s.act_dim, 6);
    EXPECT_EQ(s.act_high, std::vector<double>(6, 1.0));
    EXPECT_EQ(s.frame_skip, 4);
    EXPECT_DOUBLE_EQ(s.dt, 0.008);
    const mjModel* m = as_mujoco(*env).model();
    EXPECT_EQ(m->opt.integrator, mjINT_RK4);
    EXPECT_EQ(m->qpos0[1], 1.25);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(m->actuator_gear[6 * i], 100.0);
    for (int i = 3; i < 9; ++i) {
      EXPECT_EQ(m->dof_armature[i], 0.01);
      EXPECT_EQ(m->dof_damping[i], 0.1);
    }
    auto mass = [&](const char* b) { return m->body_mass[testing::body(m, b)]; };
    EXPECT_NEAR(mass("torso"), 1000 * testing::capsule_volume(0.05, 0.2), 1e-9);
    EXPECT_NEAR(mass("thigh_left"), 1000 * testing::capsule_volume(0.05, 0.225), 1e-9);
    EXPECT_NEAR(mass("leg"), 1000 * testing::capsule_volume(0.04, 0.25), 1e-9);
    EXPECT_NEAR(mass("foot_left"), 1000 * testing::capsule_volume(0.06, 0.1), 1e-9);
    // The v4/v5 model difference: the right foot's friction.
    const double right = m->geom_friction[3 * mj_name2id(m, mjOBJ_GEOM, "foot_geom")];
    const double left = m->geom_friction[3 * mj_name2id(m, mjOBJ_GEOM, "foot_left_geom")];
    EXPECT_EQ(right, std::string(id).back() == '5' ? 1.9 : 0.9) << id;
    EXPECT_EQ(left, 1.9);
  }
  EXPECT_EQ(testing::make_with("Walker2d-v5", {{"exclude_current_positions_from_observation", 0}})->spec().obs_dim, 18);
}

TEST(Walker2d, RewardAndObservation) {
  auto env = testing::make_with("Walker2d-v5", {{"ctrl_cost_weight", 0.01}, {"healthy_reward", 3.0}});
  std::vector<double> obs;
  const std::vector<double> a = {0.5, -0.5, 1.0, 0.0, 0.2, -1.2};
  const StepResult r = step_from(*env, {0, 1.25, 0.1, 0, 0, 0, 0, 0, 0}, {1.0, 0, 0, 0, 0, 0, 0, 30, -30}, a, &obs);
  const mjData* d = as_mujoco(*env).data();
  const double forward = d->qpos[0] / 0.008;
  const double ctrl = 0.01 * (0.25 + 0.25 + 1.0 + 0.04 + 1.44);
  EXPECT_NEAR(term(env->reward_terms(), "forward"), forward, 1e-12);
  EXPECT_EQ(term(env->reward_terms(), "healthy"), 3.0);
  EXPECT_NEAR(term(env->reward_terms(), "ctrl_cost"), -ctrl, 1e-15);
  EXPECT_NEAR(r.reward, forward + 3.0 - ctrl, 1e-12);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(obs[static_cast<std::size_t>(i)], d->qpos[i + 1]);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(obs[static_cast<std::size_t>(8 + i)], std::clamp(d->qvel[i], -10.0, 10.0));
  EXPECT_EQ(obs[15], 10.0);
  EXPECT_EQ(obs[16], -10.0);
}

TEST(Walker2d, TerminationBoundariesAndV4Bonus) {
  struct Case {
    double z, angle;
    bool healthy;
  };
  // After one step (8 ms) z and the angle move by well under 0.01 from rest.
  const std::vector<Case> cases = {{1.25, 0.0, true},  {0.85, 0.0, true},  {0.75, 0.0, false},
                                   {1.95, 0.0, true},  {2.05, 0.0, false}, {1.25, 0.95, true},
                                   {1.25, 1.05, false}, {1.25, -0.95, true}, {1.25, -1.05, false}};
  for (const char* id : {"Walker2d-v5", "Walker2d-v4"}) {
    const bool v4 = std::string(id).back() == '4';
    auto env = make_env(id);
    for (const Case& c : cases) {
      const StepResult r = step_from(*env, {0, c.z, c.angle, 0, 0, 0, 0, 0, 0}, std::vector<double>(9, 0.0),
                                     std::vector<double>(6, 0.0));
      const mjData* d = as_mujoco(*env).data();
      const bool healthy = d->qpos[1] > 0.8 && d->qpos[1] < 2.0 && d->qpos[2] > -1 && d->qpos[2] < 1;
      EXPECT_EQ(healthy, c.healthy) << id << " z " << c.z << " angle " << c.angle;
      EXPECT_EQ(r.terminated, !healthy) << id;
      EXPECT_EQ(term(env->reward_terms(), "healthy"), (healthy || v4) ? 1.0 : 0.0) << id;
    }
  }
  auto env = testing::make_with("Walker2d-v5", {{"healthy_z_min", 0.5}, {"healthy_z_max", 3.0}});
  EXPECT_FALSE(step_from(*env, {0, 0.75, 0, 0, 0, 0, 0, 0, 0}, {}, std::vector<double>(6, 0.0)).terminated);
}

TEST(Walker2d, ResetNoise) {
  auto env = make_env("Walker2d-v5");
  std::vector<double> obs(17);
  double max_abs = 0.0;
  for (int i = 0; i < 300; ++i) {
    env->reset(static_cast<std::uint64_t>(i), obs.data());
    const mjData* d = as_mujoco(*env).data();
    for (int j = 0; j < 9; ++j) {
      EXPECT_LE(std::fabs(d->qpos[j] - (j == 1 ? 1.25 : 0.0)), 5e-3 + 1e-15);
      EXPECT_LE(std::fabs(d->qvel[j]), 5e-3);
      max_abs = std::max(max_abs, std::fabs(d->qvel[j]));
    }
  }
  EXPECT_GT(max_abs, 4.9e-3);
}

}  // namespace
}  // namespace graybox::envs
