// Ant, Humanoid and HumanoidStandup (v5 and v4) against the spec.
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
using testing::body;
using testing::make_with;
using testing::step_from;
using testing::term;

double clipped_squares(const double* x, int n) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += std::clamp(x[i], -1.0, 1.0) * std::clamp(x[i], -1.0, 1.0);
  return s;
}

double squares(const double* x, int n) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

// Lets the env settle on the floor for a few steps with a fixed action.
void settle(Env& env, int steps, double value) {
  std::vector<double> obs(static_cast<std::size_t>(env.spec().obs_dim));
  const std::vector<double> a(static_cast<std::size_t>(env.spec().act_dim), value);
  for (int i = 0; i < steps; ++i) env.step(a.data(), obs.data());
}

TEST(Ant, SpecAndModel) {
  EXPECT_EQ(make_env("Ant-v5")->spec().obs_dim, 105);
  EXPECT_EQ(make_env("Ant-v4")->spec().obs_dim, 27);
  EXPECT_EQ(make_with("Ant-v4", {{"use_contact_forces", 1}})->spec().obs_dim, 111);
  EXPECT_EQ(make_with("Ant-v5", {{"include_cfrc_ext_in_observation", 0}})->spec().obs_dim, 27);
  EXPECT_EQ(make_with("Ant-v5", {{"exclude_current_positions_from_observation", 0}})->spec().obs_dim, 107);
  EXPECT_THROW(make_with("Ant-v4", {{"include_cfrc_ext_in_observation", 0}}), EnvError);
  auto env = make_env("Ant-v5");
  const EnvSpec& s = env->spec();
  EXPECT_EQ(s.act_dim, 8);
  EXPECT_EQ(s.act_low, std::vector<double>(8, -1.0));
  EXPECT_EQ(s.frame_skip, 5);
  EXPECT_DOUBLE_EQ(s.dt, 0.05);
  EXPECT_EQ(s.reward_threshold, 6000.0);
  const mjModel* m = as_mujoco(*env).model();
  EXPECT_EQ(m->nbody, 14);
  EXPECT_EQ(body(m, "torso"), 1);
  EXPECT_EQ(m->opt.integrator, mjINT_RK4);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(m->actuator_gear[6 * i], 150.0);
  double total = 0.0;
  for (int b = 0; b < m->nbody; ++b) total += m->body_mass[b];
  EXPECT_NEAR(total, 0.91, 0.005);
  EXPECT_EQ(m->qpos0[2], 0.75);
  EXPECT_EQ(m->qpos0[3], 1.0);
}

TEST(Ant, RewardTermsV5AndV4) {
  for (const char* id : {"Ant-v5", "Ant-v4"}) {
    for (int use_contact : {0, 1}) {
      const bool v4 = std::string(id).back() == '4';
      auto env = v4 ? make_with(id, {{"use_contact_forces", static_cast<double>(use_contact)}}) : make_env(id);
      std::vector<double> obs(static_cast<std::size_t>(env->spec().obs_dim));
      env->reset(2, obs.data());
      settle(*env, 10, 0.3);  // on the floor: contact forces are non-zero
      const mjModel* m = as_mujoco(*env).model();
      const mjData* d = as_mujoco(*env).data();
      const double x_before = d->xpos[3 * 1];
      const std::vector<double> a = {0.5, -0.5, 1.0, -1.0, 0.2, 0.4, -0.9, 1.3};
      const StepResult r = env->step(a.data(), obs.data());
      const double forward = (d->xpos[3 * 1] - x_before) / 0.05;
      const double ctrl = 0.5 * squares(a.data(), 8);
      const double contact_sq = clipped_squares(d->cfrc_ext, 6 * m->nbody);
      ASSERT_GT(contact_sq, 0.0);
      const double contact = (!v4 || use_contact) ? 5e-4 * contact_sq : 0.0;
      const bool healthy = d->qpos[2] >= 0.2 && d->qpos[2] <= 1.0;
      ASSERT_TRUE(healthy);
      EXPECT_NEAR(term(env->reward_terms(), "forward"), forward, 1e-12) << id;
      EXPECT_EQ(term(env->reward_terms(), "healthy"), 1.0);
      EXPECT_NEAR(term(env->reward_terms(), "ctrl_cost"), -ctrl, 1e-12);
      EXPECT_NEAR(term(env->reward_terms(), "contact_cost"), -contact, 1e-15) << id << " " << use_contact;
      EXPECT_NEAR(r.reward, forward + 1.0 - ctrl - contact, 1e-12);
      // Observation: q2.., qd, then clipped contact forces (v5 without the world row).
      std::vector<double> want(d->qpos + 2, d->qpos + 15);
      want.insert(want.end(), d->qvel, d->qvel + 14);
      if (!v4 || use_contact) {
        for (int i = v4 ? 0 : 6; i < 6 * m->nbody; ++i) want.push_back(std::clamp(d->cfrc_ext[i], -1.0, 1.0));
      }
      EXPECT_EQ(obs, want) << id;
      if (!v4) {
        EXPECT_EQ(env->spec().obs_dim, 105);
      }
    }
  }
}

TEST(Ant, HealthyRangeIsInclusiveAndV4PaysTheTerminalStep) {
  for (const char* id : {"Ant-v5", "Ant-v4"}) {
    const bool v4 = std::string(id).back() == '4';
    auto env = make_env(id);
    std::vector<double> qpos = {0, 0, 0.9, 1, 0, 0, 0, 0, 0.5, 0, -0.5, 0, -0.5, 0, 0.5};
    StepResult r = step_from(*env, qpos, {}, std::vector<double>(8, 0.0));
    EXPECT_FALSE(r.terminated) << id;
    qpos[2] = 1.2;  // too high: falls only about 1 cm in one step
    r = step_from(*env, qpos, std::vector<double>(14, 0.0), std::vector<double>(8, 0.0));
    EXPECT_GT(as_mujoco(*env).data()->qpos[2], 1.0);
    EXPECT_TRUE(r.terminated) << id;
    EXPECT_EQ(term(env->reward_terms(), "healthy"), v4 ? 1.0 : 0.0) << id;
  }
  // Bounds as parameters (inclusive): the same state is healthy with a wider range.
  auto env = make_with("Ant-v5", {{"healthy_z_max", 2.0}});
  const std::vector<double> qpos = {0, 0, 1.2, 1, 0, 0, 0, 0, 0.5, 0, -0.5, 0, -0.5, 0, 0.5};
  EXPECT_FALSE(step_from(*env, qpos, std::vector<double>(14, 0.0), std::vector<double>(8, 0.0)).terminated);
}

TEST(Ant, ResetNoise) {
  auto env = make_env("Ant-v5");
  std::vector<double> obs(105);
  double sum_sq = 0.0, max_q = 0.0, max_quat = 0.0;
  int n = 0;
  const double qpos0[15] = {0, 0, 0.75, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 200; ++i) {
    env->reset(static_cast<std::uint64_t>(i), obs.data());
    const mjData* d = as_mujoco(*env).data();
    // The quaternion (q3..6) gets the noise too; MuJoCo 2.2.2's mj_forward then normalises it
    // in qpos, exactly as it does under Gymnasium on this MuJoCo version.
    for (int j = 0; j < 15; ++j) {
      if (j >= 3 && j < 7) continue;
      EXPECT_LE(std::fabs(d->qpos[j] - qpos0[j]), 0.1 + 1e-15);
      max_q = std::max(max_q, std::fabs(d->qpos[j] - qpos0[j]));
    }
    for (int j = 4; j < 7; ++j) max_quat = std::max(max_quat, std::fabs(d->qpos[j]));
    for (int j = 0; j < 14; ++j, ++n) sum_sq += d->qvel[j] * d->qvel[j];
  }
  EXPECT_GT(max_q, 0.099);
  EXPECT_NEAR(std::sqrt(sum_sq / n), 0.1, 0.01);
  EXPECT_GT(max_quat, 0.05) << "the quaternion must get noise";
  EXPECT_LT(max_quat, 0.11);
}

TEST(Humanoid, SpecAndModel) {
  for (const char* name : {"Humanoid", "HumanoidStandup"}) {
    const std::string v5 = std::string(name) + "-v5", v4 = std::string(name) + "-v4";
    EXPECT_EQ(make_env(v5)->spec().obs_dim, 348);
    EXPECT_EQ(make_env(v4)->spec().obs_dim, 376);
    EXPECT_EQ(make_with(v5, {{"include_cinert_in_observation", 0}})->spec().obs_dim, 348 - 130);
    EXPECT_EQ(make_with(v5, {{"include_cvel_in_observation", 0}, {"include_cfrc_ext_in_observation", 0}})
                  ->spec()
                  .obs_dim,
              348 - 156);
    EXPECT_EQ(make_with(v5, {{"include_qfrc_actuator_in_observation", 0}})->spec().obs_dim, 348 - 17);
    auto env = make_env(v5);
    const EnvSpec& s = env->spec();
    EXPECT_EQ(s.act_dim, 17);
    EXPECT_EQ(s.act_low, std::vector<double>(17, -0.4));
    EXPECT_EQ(s.act_high, std::vector<double>(17, 0.4));
    EXPECT_EQ(s.frame_skip, 5);
    EXPECT_DOUBLE_EQ(s.dt, 0.015);
    const mjModel* m = as_mujoco(*env).model();
    EXPECT_EQ(m->nbody, 14);
    EXPECT_EQ(m->ntendon, 2);
    EXPECT_EQ(m->opt.integrator, mjINT_RK4);
    EXPECT_EQ(m->opt.solver, mjSOL_PGS);
    EXPECT_EQ(m->opt.iterations, 50);
    EXPECT_EQ(m->opt.timestep, 0.003);
    const double gears[17] = {100, 100, 100, 100, 100, 300, 200, 100, 100, 300, 200, 25, 25, 25, 25, 25, 25};
    for (int i = 0; i < 17; ++i) EXPECT_EQ(m->actuator_gear[6 * i], gears[i]) << name << " " << i;
    const double deg = 3.14159265358979323846 / 180.0;
    const int left_hip_y = mj_name2id(m, mjOBJ_JOINT, "left_hip_y");
    const int right_hip_y = mj_name2id(m, mjOBJ_JOINT, "right_hip_y");
    EXPECT_NEAR(m->jnt_range[2 * left_hip_y], (std::string(name) == "Humanoid" ? -110 : -120) * deg, 1e-12);
    EXPECT_NEAR(m->jnt_range[2 * right_hip_y], -110 * deg, 1e-12);
    EXPECT_EQ(m->qpos0[2], std::string(name) == "Humanoid" ? 1.4 : 0.105);
  }
}

// The observation blocks of v5 (world rows and free-joint dofs dropped) and v4 (all rows).
std::vector<double> humanoid_obs(const mjModel* m, const mjData* d, bool v4) {
  const int b0 = v4 ? 0 : 1, rows = m->nbody - b0;
  std::vector<double> o(d->qpos + 2, d->qpos + 24);
  o.insert(o.end(), d->qvel, d->qvel + 23);
  o.insert(o.end(), d->cinert + 10 * b0, d->cinert + 10 * b0 + 10 * rows);
  o.insert(o.end(), d->cvel + 6 * b0, d->cvel + 6 * b0 + 6 * rows);
  o.insert(o.end(), d->qfrc_actuator + (v4 ? 0 : 6), d->qfrc_actuator + 23);
  o.insert(o.end(), d->cfrc_ext + 6 * b0, d->cfrc_ext + 6 * b0 + 6 * rows);
  return o;
}

TEST(Humanoid, RewardTermsAndObservation) {
  for (const char* id : {"Humanoid-v5", "Humanoid-v4"}) {
    const bool v4 = std::string(id).back() == '4';
    auto env = make_env(id);
    std::vector<double> obs(static_cast<std::size_t>(env->spec().obs_dim));
    env->reset(3, obs.data());
    settle(*env, 12, 0.1);  // feet on the floor
    const mjModel* m = as_mujoco(*env).model();
    const mjData* d = as_mujoco(*env).data();
    auto com_x = [&] {
      double s = 0.0, mass = 0.0;
      for (int b = 0; b < m->nbody; ++b) {
        s += m->body_mass[b] * d->xipos[3 * b];
        mass += m->body_mass[b];
      }
      return s / mass;
    };
    const double before = com_x();
    std::vector<double> a(17);
    for (int i = 0; i < 17; ++i) a[static_cast<std::size_t>(i)] = 0.05 * (i % 5) - 0.1;
    const StepResult r = env->step(a.data(), obs.data());
    ASSERT_FALSE(r.terminated);
    const double forward = 1.25 * (com_x() - before) / 0.015;
    const double ctrl = 0.1 * squares(a.data(), 17);
    const double contact_sq = squares(d->cfrc_ext, 6 * m->nbody);
    ASSERT_GT(contact_sq, 0.0);
    const double contact = v4 ? 0.0 : std::min(5e-7 * contact_sq, 10.0);
    EXPECT_NEAR(term(env->reward_terms(), "forward"), forward, 1e-12) << id;
    EXPECT_EQ(term(env->reward_terms(), "healthy"), 5.0);
    EXPECT_NEAR(term(env->reward_terms(), "ctrl_cost"), -ctrl, 1e-15);
    EXPECT_NEAR(term(env->reward_terms(), "contact_cost"), -contact, 1e-12) << id;
    EXPECT_NEAR(r.reward, forward + 5.0 - ctrl - contact, 1e-12);
    EXPECT_EQ(obs, humanoid_obs(m, d, v4)) << id;
  }
  // The contact cost is capped.
  auto env = make_with("Humanoid-v5", {{"contact_cost_weight", 1.0}});
  step_from(*env, {}, {}, std::vector<double>(17, 0.0));
  settle(*env, 12, 0.0);
  EXPECT_EQ(term(env->reward_terms(), "contact_cost"), -10.0);
}

TEST(Humanoid, HealthyRangeAndV4TerminalBonus) {
  for (const char* id : {"Humanoid-v5", "Humanoid-v4"}) {
    const bool v4 = std::string(id).back() == '4';
    auto env = make_env(id);
    std::vector<double> obs(static_cast<std::size_t>(env->spec().obs_dim));
    env->reset(4, obs.data());
    EnvState s = env->state();
    s.qpos[2] = 2.1;  // above 2.0: still too high after one step (falls about 1 mm)
    env->set_state(s);
    const std::vector<double> zero(17, 0.0);
    StepResult r = env->step(zero.data(), obs.data());
    EXPECT_TRUE(r.terminated) << id;
    EXPECT_EQ(term(env->reward_terms(), "healthy"), v4 ? 5.0 : 0.0) << id;
    s.qpos[2] = 1.4;
    env->set_state(s);
    r = env->step(zero.data(), obs.data());
    EXPECT_FALSE(r.terminated) << id;
  }
}

TEST(HumanoidStandup, RewardUsesTimestepNotDt) {
  for (const char* id : {"HumanoidStandup-v5", "HumanoidStandup-v4"}) {
    const bool v4 = std::string(id).back() == '4';
    auto env = make_env(id);
    std::vector<double> obs(static_cast<std::size_t>(env->spec().obs_dim));
    env->reset(5, obs.data());
    settle(*env, 5, 0.0);
    const mjModel* m = as_mujoco(*env).model();
    const mjData* d = as_mujoco(*env).data();
    std::vector<double> a(17, 0.3);
    const StepResult r = env->step(a.data(), obs.data());
    EXPECT_FALSE(r.terminated);
    const double uph = d->qpos[2] / 0.003;
    const double ctrl = 0.1 * squares(a.data(), 17);
    const double impact = std::min(0.5e-6 * squares(d->cfrc_ext, 6 * m->nbody), 10.0);
    EXPECT_GT(impact, 0.0);
    EXPECT_NEAR(term(env->reward_terms(), "uph"), uph, 1e-12);
    EXPECT_EQ(term(env->reward_terms(), "alive"), 1.0);
    EXPECT_NEAR(term(env->reward_terms(), "ctrl_cost"), -ctrl, 1e-15);
    EXPECT_NEAR(term(env->reward_terms(), "impact_cost"), -impact, 1e-12);
    EXPECT_NEAR(r.reward, uph + 1.0 - ctrl - impact, 1e-12);
    EXPECT_GT(uph, 25.0) << "lying down pays about 35";
    EXPECT_LT(uph, 45.0);
    EXPECT_EQ(obs, humanoid_obs(m, d, v4)) << id;
  }
  // Gymnasium ignores uph_cost_weight: graybox only accepts its default.
  EXPECT_NO_THROW(make_with("HumanoidStandup-v5", {{"uph_cost_weight", 1.0}}));
  EXPECT_THROW(make_with("HumanoidStandup-v5", {{"uph_cost_weight", 2.0}}), EnvError);
}

TEST(Humanoid, ResetNoise) {
  for (const char* id : {"Humanoid-v5", "HumanoidStandup-v5"}) {
    auto env = make_env(id);
    std::vector<double> obs(348);
    const mjModel* m = as_mujoco(*env).model();
    double max_abs = 0.0;
    for (int i = 0; i < 100; ++i) {
      env->reset(static_cast<std::uint64_t>(i), obs.data());
      const mjData* d = as_mujoco(*env).data();
      for (int j = 0; j < 24; ++j) {
        if (j >= 3 && j < 7) continue;  // the quaternion, normalised by mj_forward (see Ant)
        EXPECT_LE(std::fabs(d->qpos[j] - m->qpos0[j]), 0.01 + 1e-15);
      }
      for (int j = 0; j < 23; ++j) {
        EXPECT_LE(std::fabs(d->qvel[j]), 0.01);
        max_abs = std::max(max_abs, std::fabs(d->qvel[j]));
      }
    }
    EXPECT_GT(max_abs, 0.0099);
  }
}

}  // namespace
}  // namespace graybox::envs
