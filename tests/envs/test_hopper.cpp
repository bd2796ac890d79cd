// Hopper-v5 against the spec.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "envs/env.hpp"
#include "tests/envs/env_test_util.hpp"

namespace graybox::envs {
namespace {

using testing::as_mujoco;
using testing::term;

// The spec's health rule, computed from mjData after the step.
bool spec_healthy(const mjData* d) {
  for (int i = 2; i < 6; ++i) {
    if (!(d->qpos[i] > -100 && d->qpos[i] < 100)) return false;
  }
  for (int i = 0; i < 6; ++i) {
    if (!(d->qvel[i] > -100 && d->qvel[i] < 100)) return false;
  }
  return d->qpos[1] > 0.7 && d->qpos[2] > -0.2 && d->qpos[2] < 0.2;
}

TEST(Hopper, SpecAndModel) {
  auto env = make_env("Hopper-v5");
  const EnvSpec& s = env->spec();
  EXPECT_EQ(s.obs_dim, 11);
  EXPECT_EQ(s.act_dim, 3);
  EXPECT_EQ(s.act_low, std::vector<double>(3, -1.0));
  EXPECT_EQ(s.act_high, std::vector<double>(3, 1.0));
  EXPECT_EQ(s.frame_skip, 4);
  EXPECT_DOUBLE_EQ(s.dt, 0.008);
  const mjModel* m = as_mujoco(*env).model();
  EXPECT_EQ(m->opt.timestep, 0.002);
  EXPECT_EQ(m->opt.integrator, mjINT_RK4);
  EXPECT_EQ(m->qpos0[1], 1.25);  // rootz ref: q1 is the torso height
  for (int i = 0; i < 3; ++i) EXPECT_EQ(m->actuator_gear[6 * i], 200.0);
  for (int i = 3; i < 6; ++i) {
    EXPECT_EQ(m->dof_armature[i], 1.0);
    EXPECT_EQ(m->dof_damping[i], 1.0);
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(m->dof_armature[i], 0.0);
    EXPECT_EQ(m->dof_damping[i], 0.0);
  }
  // Masses from geometry (density 1000).
  auto mass = [&](const char* body) { return m->body_mass[mj_name2id(m, mjOBJ_BODY, body)]; };
  EXPECT_NEAR(mass("torso"), 1000 * testing::capsule_volume(0.05, 0.2), 1e-9);
  EXPECT_NEAR(mass("thigh"), 1000 * testing::capsule_volume(0.05, 0.225), 1e-9);
  EXPECT_NEAR(mass("leg"), 1000 * testing::capsule_volume(0.04, 0.25), 1e-9);
  EXPECT_NEAR(mass("foot"), 1000 * testing::capsule_volume(0.06, 0.195), 1e-9);
  const int foot_geom = mj_name2id(m, mjOBJ_GEOM, "foot_geom");
  EXPECT_EQ(m->geom_friction[3 * foot_geom], 2.0);
  EXPECT_EQ(m->geom_condim[foot_geom], 1);

  // With zero noise the torso body sits at its qpos height.
  EnvOptions quiet;
  quiet.params["reset_noise_scale"] = 0.0;
  auto env0 = make_env("Hopper-v5", quiet);
  std::vector<double> obs(11);
  env0->reset(1, obs.data());
  const mjData* d = as_mujoco(*env0).data();
  EXPECT_NEAR(d->xpos[3 * mj_name2id(m, mjOBJ_BODY, "torso") + 2], 1.25, 1e-12);
  EXPECT_EQ(obs[0], 1.25);
}

TEST(Hopper, ObservationLayoutAndClipping) {
  auto env = make_env("Hopper-v5");
  std::vector<double> obs(11);
  env->reset(4, obs.data());
  EnvState s = env->state();
  s.qvel = {50.0, -20.0, 3.0, -4.0, 9.5, 10.5};
  env->set_state(s);
  as_mujoco(*env).observe(obs.data());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(obs[static_cast<std::size_t>(i)], s.qpos[static_cast<std::size_t>(i + 1)]);
  const std::vector<double> vel(obs.begin() + 5, obs.end());
  EXPECT_EQ(vel, (std::vector<double>{10.0, -10.0, 3.0, -4.0, 9.5, 10.0}));

  EnvOptions options;
  options.params["exclude_current_positions_from_observation"] = 0;
  auto full = make_env("Hopper-v5", options);
  EXPECT_EQ(full->spec().obs_dim, 12);
  std::vector<double> obs12(12);
  full->reset(4, obs12.data());
  EXPECT_EQ(obs12[0], as_mujoco(*full).data()->qpos[0]);
}

TEST(Hopper, RewardTermsOnKnownState) {
  EnvOptions options;
  options.params["forward_reward_weight"] = 1.5;
  options.params["ctrl_cost_weight"] = 0.01;
  options.params["healthy_reward"] = 2.0;
  auto env = make_env("Hopper-v5", options);
  std::vector<double> obs(11);
  env->reset(8, obs.data());
  EnvState s = env->state();
  s.qvel = {0.8, 0.1, -0.2, 0.3, 0.0, 0.1};
  env->set_state(s);
  const double x_before = s.qpos[0];
  const std::vector<double> a = {0.5, -0.3, 1.7};  // raw, outside the range on purpose
  const StepResult r = env->step(a.data(), obs.data());
  const mjData* d = as_mujoco(*env).data();
  const double forward = 1.5 * (d->qpos[0] - x_before) / 0.008;
  const double ctrl = 0.01 * (0.25 + 0.09 + 1.7 * 1.7);
  ASSERT_TRUE(spec_healthy(d));
  EXPECT_NEAR(term(env->reward_terms(), "forward"), forward, 1e-12);
  EXPECT_EQ(term(env->reward_terms(), "healthy"), 2.0);
  EXPECT_NEAR(term(env->reward_terms(), "ctrl_cost"), -ctrl, 1e-15);
  EXPECT_NEAR(r.reward, forward + 2.0 - ctrl, 1e-12);
  EXPECT_FALSE(r.terminated);
  EXPECT_GT(forward, 0.0);
}

// Starts from a crafted state, steps once, and checks termination and the healthy term
// against the spec's rule evaluated on the state after the step.
StepResult step_from(Env& env, const std::vector<double>& qpos, const std::vector<double>& qvel) {
  std::vector<double> obs(static_cast<std::size_t>(env.spec().obs_dim));
  env.reset(1, obs.data());
  EnvState s = env.state();
  s.qpos = qpos;
  s.qvel = qvel;
  env.set_state(s);
  const std::vector<double> a(3, 0.0);
  return env.step(a.data(), obs.data());
}

TEST(Hopper, TerminationBoundaries) {
  auto env = make_env("Hopper-v5");
  const mjData* d = as_mujoco(*env).data();
  const std::vector<double> still(6, 0.0);
  struct Case {
    std::vector<double> qpos, qvel;
    bool want_healthy;
  };
  const std::vector<Case> cases = {
      {{0, 1.25, 0.0, 0, 0, 0}, still, true},
      {{0, 1.25, 0.15, 0, 0, 0}, still, true},
      {{0, 1.25, 0.25, 0, 0, 0}, still, false},    // angle > 0.2
      {{0, 1.25, -0.25, 0, 0, 0}, still, false},   // angle < -0.2
      {{0, 0.65, 0.0, 0, 0, 0}, still, false},     // z < 0.7
      {{0, 1.25, 0.0, 0, 0, 0}, {0, 0, 0, 0, 0, 500.0}, false},  // |qvel| >= 100
      {{0, 1.25, 0.0, 0, 0, 0}, {0, 0, 0, 0, 0, 50.0}, true},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const StepResult r = step_from(*env, cases[i].qpos, cases[i].qvel);
    const bool healthy = spec_healthy(d);
    EXPECT_EQ(healthy, cases[i].want_healthy) << "case " << i;
    EXPECT_EQ(r.terminated, !healthy) << "case " << i;
    EXPECT_EQ(term(env->reward_terms(), "healthy"), healthy ? 1.0 : 0.0) << "case " << i;
  }
  // Without termination the unhealthy step still pays no healthy reward (v5).
  EnvOptions options;
  options.params["terminate_when_unhealthy"] = 0;
  auto free_env = make_env("Hopper-v5", options);
  const StepResult r = step_from(*free_env, {0, 1.25, 0.25, 0, 0, 0}, still);
  EXPECT_FALSE(r.terminated);
  EXPECT_EQ(term(free_env->reward_terms(), "healthy"), 0.0);
}

TEST(Hopper, EpisodeEndsByFallingWithNoHealthyRewardOnLastStep) {
  auto env = make_env("Hopper-v5");
  std::vector<double> obs(11);
  env->reset(21, obs.data());
  const mjData* d = as_mujoco(*env).data();
  const std::vector<double> a = {1.0, -1.0, 1.0};
  StepResult r;
  int steps = 0;
  do {
    r = env->step(a.data(), obs.data());
    ++steps;
    EXPECT_EQ(r.terminated, !spec_healthy(d)) << "step " << steps;
  } while (!r.terminated && !r.truncated);
  EXPECT_TRUE(r.terminated);
  EXPECT_LT(steps, 1000);
  EXPECT_EQ(term(env->reward_terms(), "healthy"), 0.0);
}

TEST(Hopper, ResetNoiseBounds) {
  auto env = make_env("Hopper-v5");
  std::vector<double> obs(11);
  const std::vector<double> qpos0 = {0, 1.25, 0, 0, 0, 0};
  double max_abs = 0.0;
  for (int i = 0; i < 500; ++i) {
    env->reset(static_cast<std::uint64_t>(1000 + i), obs.data());
    const mjData* d = as_mujoco(*env).data();
    for (int j = 0; j < 6; ++j) {
      const double dq = d->qpos[j] - qpos0[static_cast<std::size_t>(j)];
      EXPECT_LE(std::fabs(dq), 5e-3 + 1e-15);
      EXPECT_LE(std::fabs(d->qvel[j]), 5e-3);
      max_abs = std::max(max_abs, std::fabs(d->qvel[j]));
    }
    EXPECT_EQ(d->time, 0.0);
  }
  EXPECT_GT(max_abs, 4.9e-3);
}

}  // namespace
}  // namespace graybox::envs
