// Reacher and Pusher (v5 and v4) against the spec.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "envs/env.hpp"
#include "tests/envs/env_test_util.hpp"

namespace graybox::envs {
namespace {

using testing::as_mujoco;
using testing::body;
using testing::norm3;
using testing::term;

TEST(Reacher, SpecAndModel) {
  for (const char* id : {"Reacher-v5", "Reacher-v4"}) {
    auto env = make_env(id);
    const EnvSpec& s = env->spec();
    EXPECT_EQ(s.obs_dim, std::string(id).back() == '5' ? 10 : 11);
    EXPECT_EQ(s.act_dim, 2);
    EXPECT_EQ(s.act_low, std::vector<double>(2, -1.0));
    EXPECT_EQ(s.act_high, std::vector<double>(2, 1.0));
    EXPECT_EQ(s.frame_skip, 2);
    EXPECT_DOUBLE_EQ(s.dt, 0.02);
    EXPECT_EQ(s.max_episode_steps, 50);
    EXPECT_EQ(s.reward_threshold, -3.75);
    const mjModel* m = as_mujoco(*env).model();
    EXPECT_EQ(m->opt.integrator, mjINT_RK4);
    EXPECT_EQ(m->actuator_gear[0], 200.0);
    EXPECT_EQ(m->actuator_gear[6], 200.0);
    EXPECT_EQ(m->jnt_limited[0], 0);
    EXPECT_EQ(m->jnt_range[2], -3.0);
    EXPECT_EQ(m->jnt_range[3], 3.0);
  }
}

TEST(Reacher, ObservationAndTargetCoordinates) {
  for (const char* id : {"Reacher-v5", "Reacher-v4"}) {
    auto env = make_env(id);
    std::vector<double> obs(static_cast<std::size_t>(env->spec().obs_dim));
    env->reset(3, obs.data());
    const mjModel* m = as_mujoco(*env).model();
    const mjData* d = as_mujoco(*env).data();
    const double* f = d->xpos + 3 * body(m, "fingertip");
    const double* t = d->xpos + 3 * body(m, "target");
    EXPECT_NEAR(t[0], d->qpos[2], 1e-12) << "q2 is the target's world x";
    EXPECT_NEAR(t[1], d->qpos[3], 1e-12) << "q3 is the target's world y";
    const std::vector<double> want = {std::cos(d->qpos[0]), std::cos(d->qpos[1]), std::sin(d->qpos[0]),
                                      std::sin(d->qpos[1]), d->qpos[2],           d->qpos[3],
                                      d->qvel[0],           d->qvel[1],           f[0] - t[0],
                                      f[1] - t[1]};
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(obs[i], want[i]) << id << " " << i;
    if (obs.size() == 11) {
      EXPECT_EQ(obs[10], f[2] - t[2]);
    }
  }
}

TEST(Reacher, DistanceAfterTheStepInV5BeforeInV4) {
  for (const char* id : {"Reacher-v5", "Reacher-v4"}) {
    const bool v4 = std::string(id).back() == '4';
    auto env = testing::make_with(id, {{"reward_dist_weight", 2.0}, {"reward_control_weight", 0.5}});
    std::vector<double> obs(static_cast<std::size_t>(env->spec().obs_dim));
    env->reset(8, obs.data());
    const mjModel* m = as_mujoco(*env).model();
    const mjData* d = as_mujoco(*env).data();
    const int f = body(m, "fingertip"), t = body(m, "target");
    const std::vector<double> a = {0.9, -1.4};  // raw: the cost uses it unclipped
    const double before = norm3(d->xpos + 3 * f, d->xpos + 3 * t);
    const StepResult r = env->step(a.data(), obs.data());
    const double after = norm3(d->xpos + 3 * f, d->xpos + 3 * t);
    ASSERT_GT(std::fabs(after - before), 1e-4) << "the arm should move";
    const double dist = v4 ? before : after;
    const double ctrl = 0.5 * (0.81 + 1.96);
    EXPECT_NEAR(term(env->reward_terms(), "distance_cost"), -2.0 * dist, 1e-12) << id;
    EXPECT_NEAR(term(env->reward_terms(), "ctrl_cost"), -ctrl, 1e-12) << id;
    EXPECT_NEAR(r.reward, -2.0 * dist - ctrl, 1e-12) << id;
    EXPECT_FALSE(r.terminated);
  }
}

TEST(Reacher, ResetAndTimeLimit) {
  auto env = make_env("Reacher-v5");
  std::vector<double> obs(10);
  double max_goal = 0.0;
  for (int i = 0; i < 300; ++i) {
    env->reset(static_cast<std::uint64_t>(i), obs.data());
    const mjData* d = as_mujoco(*env).data();
    EXPECT_LE(std::fabs(d->qpos[0]), 0.1);
    EXPECT_LE(std::fabs(d->qpos[1]), 0.1);
    const double g = std::hypot(d->qpos[2], d->qpos[3]);
    EXPECT_LT(g, 0.2);
    max_goal = std::max(max_goal, g);
    EXPECT_LE(std::fabs(d->qvel[0]), 0.005);
    EXPECT_LE(std::fabs(d->qvel[1]), 0.005);
    EXPECT_EQ(d->qvel[2], 0.0);
    EXPECT_EQ(d->qvel[3], 0.0);
  }
  EXPECT_GT(max_goal, 0.18);
  const std::vector<double> a = {0.1, 0.1};
  for (int i = 1; i <= 50; ++i) {
    const StepResult r = env->step(a.data(), obs.data());
    EXPECT_FALSE(r.terminated);
    ASSERT_EQ(r.truncated, i == 50);
  }
}

TEST(Pusher, SpecAndModel) {
  for (const char* id : {"Pusher-v5", "Pusher-v4"}) {
    auto env = make_env(id);
    const EnvSpec& s = env->spec();
    EXPECT_EQ(s.obs_dim, 23);
    EXPECT_EQ(s.act_dim, 7);
    EXPECT_EQ(s.act_low, std::vector<double>(7, -2.0));
    EXPECT_EQ(s.act_high, std::vector<double>(7, 2.0));
    EXPECT_EQ(s.frame_skip, 5);
    EXPECT_DOUBLE_EQ(s.dt, 0.05);
    EXPECT_EQ(s.max_episode_steps, 100);
    const mjModel* m = as_mujoco(*env).model();
    EXPECT_EQ(m->opt.integrator, mjINT_EULER);
    EXPECT_EQ(m->opt.iterations, 20);
    EXPECT_EQ(m->opt.gravity[2], 0.0);
    for (int i = 0; i < 7; ++i) EXPECT_EQ(m->actuator_gear[6 * i], 1.0);
  }
  // v5: object cylinder density 0.01; v4: 1e-5 plus a sphere of the same density.
  const double pi = 3.14159265358979323846;
  const double cylinder = pi * 0.05 * 0.05 * 0.1, sphere = 4.0 / 3.0 * pi * 0.05 * 0.05 * 0.05;
  auto v5 = make_env("Pusher-v5");
  auto v4 = make_env("Pusher-v4");
  const mjModel* m5 = as_mujoco(*v5).model();
  const mjModel* m4 = as_mujoco(*v4).model();
  EXPECT_NEAR(m5->body_mass[body(m5, "object")], 0.01 * cylinder, 1e-15);
  EXPECT_NEAR(m4->body_mass[body(m4, "object")], 1e-5 * (cylinder + sphere), 1e-17);
  EXPECT_EQ(m4->ngeom, m5->ngeom + 1);
}

TEST(Pusher, ResetPlacesObjectAndGoal) {
  auto env = make_env("Pusher-v5");
  std::vector<double> obs(23);
  for (int i = 0; i < 300; ++i) {
    env->reset(static_cast<std::uint64_t>(i), obs.data());
    const mjModel* m = as_mujoco(*env).model();
    const mjData* d = as_mujoco(*env).data();
    for (int j = 0; j < 7; ++j) {
      EXPECT_EQ(d->qpos[j], 0.0);
      EXPECT_LE(std::fabs(d->qvel[j]), 0.005);
    }
    EXPECT_GE(d->qpos[7], -0.3);
    EXPECT_LE(d->qpos[7], 0.0);
    EXPECT_LE(std::fabs(d->qpos[8]), 0.2);
    EXPECT_GT(std::hypot(d->qpos[7], d->qpos[8]), 0.17);
    EXPECT_EQ(d->qpos[9], 0.0);
    EXPECT_EQ(d->qpos[10], 0.0);
    for (int j = 7; j < 11; ++j) EXPECT_EQ(d->qvel[j], 0.0);
    // q7 is the y slide, q8 the x slide, both offsets from (0.45, -0.05).
    const double* obj = d->xpos + 3 * body(m, "object");
    EXPECT_NEAR(obj[0], 0.45 + d->qpos[8], 1e-12);
    EXPECT_NEAR(obj[1], -0.05 + d->qpos[7], 1e-12);
    const double* goal = d->xpos + 3 * body(m, "goal");
    EXPECT_NEAR(goal[0], 0.45, 1e-12);
    EXPECT_NEAR(goal[1], -0.05, 1e-12);
  }
}

TEST(Pusher, RewardTermsAndObservation) {
  for (const char* id : {"Pusher-v5", "Pusher-v4"}) {
    const bool v4 = std::string(id).back() == '4';
    auto env = make_env(id);
    std::vector<double> obs(23);
    env->reset(4, obs.data());
    const mjModel* m = as_mujoco(*env).model();
    const mjData* d = as_mujoco(*env).data();
    const int tips = body(m, "tips_arm"), obj = body(m, "object"), goal = body(m, "goal");
    const double near_before = norm3(d->xpos + 3 * obj, d->xpos + 3 * tips);
    const double dist_before = norm3(d->xpos + 3 * obj, d->xpos + 3 * goal);
    const std::vector<double> a = {1.5, -2.5, 0.3, -0.7, 1.0, -1.0, 2.2};
    const StepResult r = env->step(a.data(), obs.data());
    const double near_after = norm3(d->xpos + 3 * obj, d->xpos + 3 * tips);
    const double dist_after = norm3(d->xpos + 3 * obj, d->xpos + 3 * goal);
    ASSERT_GT(std::fabs(near_after - near_before), 1e-6);
    const double near = v4 ? near_before : near_after;
    const double dist = v4 ? dist_before : dist_after;
    double sq = 0.0;
    for (double v : a) sq += v * v;
    EXPECT_NEAR(term(env->reward_terms(), "near_cost"), -0.5 * near, 1e-12) << id;
    EXPECT_NEAR(term(env->reward_terms(), "distance_cost"), -dist, 1e-12) << id;
    EXPECT_NEAR(term(env->reward_terms(), "ctrl_cost"), -0.1 * sq, 1e-12) << id;
    EXPECT_NEAR(r.reward, -0.5 * near - dist - 0.1 * sq, 1e-12) << id;
    std::vector<double> want(d->qpos, d->qpos + 7);
    want.insert(want.end(), d->qvel, d->qvel + 7);
    for (int b : {tips, obj, goal}) want.insert(want.end(), d->xpos + 3 * b, d->xpos + 3 * b + 3);
    EXPECT_EQ(obs, want) << id;
  }
}

}  // namespace
}  // namespace graybox::envs
