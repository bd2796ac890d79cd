// InvertedPendulum-v5 against the spec.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "envs/env.hpp"
#include "tests/envs/env_test_util.hpp"

namespace graybox::envs {
namespace {

using testing::as_mujoco;
using testing::same_bits;

TEST(InvertedPendulum, SpecAndModel) {
  auto env = make_env("InvertedPendulum-v5");
  const EnvSpec& s = env->spec();
  EXPECT_EQ(s.obs_dim, 4);
  EXPECT_EQ(s.act_dim, 1);
  EXPECT_EQ(s.act_low, std::vector<double>{-3.0});
  EXPECT_EQ(s.act_high, std::vector<double>{3.0});
  EXPECT_EQ(s.frame_skip, 2);
  EXPECT_DOUBLE_EQ(s.dt, 0.04);
  const mjModel* m = as_mujoco(*env).model();
  EXPECT_EQ(m->nq, 2);
  EXPECT_EQ(m->nv, 2);
  EXPECT_EQ(m->nu, 1);
  EXPECT_EQ(m->opt.timestep, 0.02);
  EXPECT_EQ(m->opt.integrator, mjINT_RK4);
  EXPECT_EQ(m->actuator_gear[0], 100.0);
  EXPECT_EQ(m->dof_damping[0], 1.0);
  EXPECT_EQ(m->dof_damping[1], 1.0);
  EXPECT_EQ(m->qpos0[0], 0.0);
  EXPECT_EQ(m->qpos0[1], 0.0);
  // Masses from geometry at density 1000: cart capsule r 0.1, half-length 0.1; pole capsule
  // r 0.049 along 0.6 (fromto).
  const int cart = mj_name2id(m, mjOBJ_BODY, "cart");
  const int pole = mj_name2id(m, mjOBJ_BODY, "pole");
  EXPECT_NEAR(m->body_mass[cart], 1000 * testing::capsule_volume(0.1, 0.1), 1e-9);
  const double pole_half = 0.5 * std::sqrt(0.6 * 0.6 + 0.001 * 0.001);
  EXPECT_NEAR(m->body_mass[pole], 1000 * testing::capsule_volume(0.049, pole_half), 1e-9);
}

TEST(InvertedPendulum, ObservationLayout) {
  auto env = make_env("InvertedPendulum-v5");
  std::vector<double> obs(4);
  env->reset(3, obs.data());
  const double a = 0.7;
  env->step(&a, obs.data());
  const mjData* d = as_mujoco(*env).data();
  EXPECT_EQ(obs[0], d->qpos[0]);
  EXPECT_EQ(obs[1], d->qpos[1]);
  EXPECT_EQ(obs[2], d->qvel[0]);
  EXPECT_EQ(obs[3], d->qvel[1]);
}

TEST(InvertedPendulum, ResetNoiseBounds) {
  auto env = make_env("InvertedPendulum-v5");
  std::vector<double> obs(4);
  double max_abs = 0.0;
  double sum = 0.0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    env->reset(static_cast<std::uint64_t>(i), obs.data());
    for (double v : obs) {
      EXPECT_LE(std::fabs(v), 0.01);
      max_abs = std::max(max_abs, std::fabs(v));
      sum += v;
    }
  }
  EXPECT_GT(max_abs, 0.0099);            // fills the range
  EXPECT_LT(std::fabs(sum / (4 * n)), 5e-4);  // centred (sd of the mean ~ 0.0001)

  EnvOptions options;
  options.params["reset_noise_scale"] = 0.0;
  auto quiet = make_env("InvertedPendulum-v5", options);
  quiet->reset(1, obs.data());
  for (double v : obs) EXPECT_EQ(v, 0.0);
}

TEST(InvertedPendulum, RewardAndTermination) {
  auto env = make_env("InvertedPendulum-v5");
  std::vector<double> obs(4);
  env->reset(11, obs.data());
  // Push the cart one way: the pole falls the other way and the episode terminates.
  int steps = 0;
  StepResult r;
  do {
    const double a = 3.0;
    r = env->step(&a, obs.data());
    ++steps;
    const bool over = std::fabs(obs[1]) > 0.2;
    EXPECT_EQ(r.terminated, over);
    EXPECT_EQ(r.reward, over ? 0.0 : 1.0);  // v5: no reward on the terminating step
    EXPECT_EQ(testing::term(env->reward_terms(), "survive"), r.reward);
  } while (!r.terminated && steps < 200);
  EXPECT_TRUE(r.terminated);
  EXPECT_EQ(r.reward, 0.0);
  EXPECT_EQ(env->episode_return(), static_cast<double>(steps - 1));
  EXPECT_EQ(env->episode_length(), steps);
}

TEST(InvertedPendulum, ActionIsClampedByMujocoNotByEnv) {
  auto a = make_env("InvertedPendulum-v5");
  auto b = make_env("InvertedPendulum-v5");
  std::vector<double> oa(4), ob(4);
  a->reset(1, oa.data());
  b->reset(1, ob.data());
  const double big = 10.0, limit = 3.0;
  a->step(&big, oa.data());
  b->step(&limit, ob.data());
  EXPECT_EQ(as_mujoco(*a).data()->ctrl[0], 10.0);  // raw action stored in ctrl
  EXPECT_TRUE(same_bits(oa, ob));                  // but the physics saw 3
}

}  // namespace
}  // namespace graybox::envs
