// Shared env mechanics: registry, model loading and errors, parameters, stability, state
// save/restore, determinism, the time limit and the env-state JSON.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "envs/env.hpp"
#include "envs/env_state_json.hpp"
#include "envs/mujoco_env.hpp"
#include "tests/envs/env_test_util.hpp"

namespace graybox::envs {
namespace {

using testing::as_mujoco;
using testing::random_action;
using testing::same_bits;
using testing::write_temp_file;

// A pendulum model in the same shape as the shipped one; `hinge_name` and `gear` vary.
std::string pendulum_xml(const std::string& hinge_name, const std::string& gear = "100") {
  return R"(<mujoco model="p">
  <option timestep="0.02" integrator="RK4"/>
  <worldbody>
    <body name="cart">
      <joint name="slider" type="slide" axis="1 0 0" limited="true" range="-1 1" damping="1"/>
      <geom type="capsule" size="0.1 0.1" quat="0.707 0 0.707 0" contype="0"/>
      <body name="pole">
        <joint name=")" + hinge_name + R"(" type="hinge" axis="0 1 0" limited="true" range="-90 90" damping="1"/>
        <geom type="capsule" size="0.049 0.3" fromto="0 0 0 0.001 0 0.6" contype="0"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="slide" joint="slider" gear=")" + gear + R"(" ctrllimited="true" ctrlrange="-3 3"/>
  </actuator>
</mujoco>
)";
}

TEST(Registry, IdsInStableOrder) {
  const std::vector<std::string> want = {
      "InvertedPendulum-v5", "InvertedDoublePendulum-v5", "Reacher-v5",  "Pusher-v5",
      "Swimmer-v5",          "Hopper-v5",                 "HalfCheetah-v5", "Walker2d-v5",
      "Ant-v5",              "Humanoid-v5",               "HumanoidStandup-v5",
      "InvertedPendulum-v4", "InvertedDoublePendulum-v4", "Reacher-v4",  "Pusher-v4",
      "Swimmer-v4",          "Hopper-v4",                 "HalfCheetah-v4", "Walker2d-v4",
      "Ant-v4",              "Humanoid-v4",               "HumanoidStandup-v4"};
  EXPECT_EQ(env_ids(), want);
}

TEST(Registry, SpecMatchesBuiltEnv) {
  for (const std::string& id : env_ids()) {
    const EnvSpec s = env_spec(id);
    auto env = make_env(id);
    const EnvSpec& b = env->spec();
    EXPECT_EQ(s.id, id);
    EXPECT_EQ(b.id, id);
    EXPECT_EQ(s.obs_dim, b.obs_dim) << id;
    EXPECT_EQ(s.act_dim, b.act_dim) << id;
    EXPECT_EQ(s.act_low, b.act_low) << id;
    EXPECT_EQ(s.act_high, b.act_high) << id;
    EXPECT_TRUE(same_bits(s.dt, b.dt)) << id;
    EXPECT_EQ(s.frame_skip, b.frame_skip) << id;
    const int limit = id.rfind("Reacher", 0) == 0 ? 50 : id.rfind("Pusher", 0) == 0 ? 100 : 1000;
    EXPECT_EQ(s.max_episode_steps, limit) << id;
    EXPECT_EQ(b.max_episode_steps, limit) << id;
    EXPECT_EQ(s.reward_threshold, b.reward_threshold) << id;
    EXPECT_TRUE(same_bits(b.dt, as_mujoco(*env).model()->opt.timestep * b.frame_skip)) << id;
  }
  EXPECT_EQ(env_spec("InvertedPendulum-v5").reward_threshold, 950.0);
  EXPECT_EQ(env_spec("Hopper-v5").reward_threshold, 3800.0);
  EXPECT_EQ(env_spec("HalfCheetah-v5").reward_threshold, 4800.0);
}

TEST(Registry, UnknownIdListsKnownIds) {
  for (int which = 0; which < 2; ++which) {
    try {
      if (which == 0) make_env("Walker9-v1");
      else env_spec("Walker9-v1");
      FAIL() << "expected EnvError";
    } catch (const EnvError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("Walker9-v1"), std::string::npos) << msg;
      for (const std::string& id : env_ids()) EXPECT_NE(msg.find(id), std::string::npos) << msg;
    }
  }
}

TEST(ModelLoading, UnparsableFileGivesMujocoMessage) {
  const std::string path = write_temp_file("broken.xml", "<mujoco><worldbody><body></worldbody>");
  EnvOptions options;
  options.model_path = path;
  try {
    make_env("InvertedPendulum-v5", options);
    FAIL() << "expected EnvError";
  } catch (const EnvError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_GT(msg.size(), path.size() + 20) << msg;  // carries MuJoCo's own text
  }
}

TEST(ModelLoading, MissingFile) {
  EnvOptions options;
  options.model_path = "/nonexistent/dir/hopper.xml";
  try {
    make_env("Hopper-v5", options);
    FAIL() << "expected EnvError";
  } catch (const EnvError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/hopper.xml"), std::string::npos);
  }
}

TEST(ModelLoading, MissingJointIsNamed) {
  EnvOptions options;
  options.model_path = write_temp_file("no_hinge.xml", pendulum_xml("pole_hinge"));
  try {
    make_env("InvertedPendulum-v5", options);
    FAIL() << "expected EnvError";
  } catch (const EnvError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("no joint named 'hinge'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("InvertedPendulum-v5"), std::string::npos) << msg;
    EXPECT_NE(msg.find(options.model_path), std::string::npos) << msg;
  }
}

TEST(ModelLoading, WrongSizesAreRejected) {
  EnvOptions options;
  options.model_path = write_temp_file("pendulum_for_hopper.xml", pendulum_xml("hinge"));
  try {
    make_env("Hopper-v5", options);
    FAIL() << "expected EnvError";
  } catch (const EnvError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("nq=6"), std::string::npos) << msg;
    EXPECT_NE(msg.find("nq=2"), std::string::npos) << msg;
  }
}

TEST(ModelLoading, ModelPathLoadsFromDisk) {
  EnvOptions options;
  options.model_path = write_temp_file("pendulum_ok.xml", pendulum_xml("hinge"));
  auto env = make_env("InvertedPendulum-v5", options);
  EXPECT_EQ(as_mujoco(*env).model_name(), options.model_path);
  std::vector<double> obs(4);
  env->reset(3, obs.data());
  const double a = 0.5;
  const StepResult r = env->step(&a, obs.data());
  EXPECT_FALSE(r.unstable);
  EXPECT_EQ(r.reward, 1.0);
}

TEST(Params, UnknownAndInvalidAreRejected) {
  auto expect_error = [](const std::string& id, const std::string& name, double value) {
    EnvOptions options;
    options.params[name] = value;
    try {
      make_env(id, options);
      ADD_FAILURE() << "expected EnvError for " << name << "=" << value;
    } catch (const EnvError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  };
  expect_error("Hopper-v5", "healthy_rewrd", 1.0);
  expect_error("InvertedPendulum-v5", "ctrl_cost_weight", 1.0);  // the pendulum has none
  expect_error("Hopper-v5", "reset_noise_scale", -0.1);
  expect_error("Hopper-v5", "terminate_when_unhealthy", 0.5);
  expect_error("HalfCheetah-v5", "exclude_current_positions_from_observation", 2.0);
  expect_error("HalfCheetah-v5", "forward_reward_weight", std::numeric_limits<double>::quiet_NaN());
  expect_error("HalfCheetah-v5", "ctrl_cost_weight", std::numeric_limits<double>::infinity());
}

TEST(Stability, NonFiniteActionIsCountedTruncation) {
  for (const std::string& id : env_ids()) {
    auto env = make_env(id);
    const EnvSpec& spec = env->spec();
    std::vector<double> obs(static_cast<std::size_t>(spec.obs_dim));
    env->reset(5, obs.data());
    const std::vector<double> before = obs;
    for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity()}) {
      std::vector<double> a(static_cast<std::size_t>(spec.act_dim), 0.1);
      a.back() = bad;
      const StepResult r = env->step(a.data(), obs.data());
      EXPECT_TRUE(r.truncated) << id;
      EXPECT_TRUE(r.unstable) << id;
      EXPECT_FALSE(r.terminated) << id;
      EXPECT_EQ(r.reward, 0.0) << id;
      EXPECT_TRUE(same_bits(obs, before)) << id << ": the state must not move";
      for (const auto& t : env->reward_terms()) EXPECT_EQ(t.second, 0.0) << id << " " << t.first;
    }
    // The env still works after a reset.
    env->reset(obs.data());
    std::vector<double> a(static_cast<std::size_t>(spec.act_dim), 0.1);
    EXPECT_FALSE(env->step(a.data(), obs.data()).unstable) << id;
  }
}

TEST(Stability, HugeVelocityIsFlaggedUnstable) {
  for (const std::string& id : env_ids()) {
    auto env = make_env(id);
    const EnvSpec& spec = env->spec();
    std::vector<double> obs(static_cast<std::size_t>(spec.obs_dim));
    env->reset(5, obs.data());
    EnvState s = env->state();
    s.qvel[1] = 1e30;
    env->set_state(s);
    std::vector<double> a(static_cast<std::size_t>(spec.act_dim), 0.0);
    const StepResult r = env->step(a.data(), obs.data());
    EXPECT_TRUE(r.truncated) << id;
    EXPECT_TRUE(r.unstable) << id;
    EXPECT_FALSE(r.terminated) << id;
    EXPECT_EQ(r.reward, 0.0) << id;
    for (double v : obs) EXPECT_TRUE(std::isfinite(v)) << id;
    EXPECT_EQ(env->episode_return(), 0.0) << id;
  }
}

TEST(Stability, ExplodingModelIsFlaggedUnstable) {
  EnvOptions options;
  options.model_path = write_temp_file("huge_gear.xml", pendulum_xml("hinge", "1e300"));
  auto env = make_env("InvertedPendulum-v5", options);
  std::vector<double> obs(4);
  env->reset(1, obs.data());
  bool unstable = false;
  for (int i = 0; i < 5 && !unstable; ++i) {
    const double a = 3.0;
    const StepResult r = env->step(&a, obs.data());
    unstable = r.unstable;
    if (r.unstable) {
      EXPECT_TRUE(r.truncated);
      EXPECT_EQ(r.reward, 0.0);
    }
    for (double v : obs) EXPECT_TRUE(std::isfinite(v));
  }
  EXPECT_TRUE(unstable);
}

TEST(TimeLimit, TruncatesAtMaxEpisodeSteps) {
  auto env = make_env("HalfCheetah-v5");  // never terminates
  std::vector<double> obs(17);
  env->reset(9, obs.data());
  const std::vector<double> a(6, 0.0);
  double sum = 0.0;
  for (int i = 1; i <= 1000; ++i) {
    const StepResult r = env->step(a.data(), obs.data());
    sum += r.reward;
    EXPECT_FALSE(r.terminated);
    ASSERT_EQ(r.truncated, i == 1000) << "step " << i;
    EXPECT_EQ(env->episode_length(), i);
  }
  EXPECT_EQ(env->episode_return(), sum);
  env->reset(obs.data());
  EXPECT_EQ(env->episode_length(), 0);
  EXPECT_EQ(env->episode_return(), 0.0);
}

TEST(Determinism, SameSeedSameTrajectory) {
  for (const std::string& id : env_ids()) {
    auto a = make_env(id);
    auto b = make_env(id);
    const EnvSpec& spec = a->spec();
    std::vector<double> oa(static_cast<std::size_t>(spec.obs_dim)), ob(oa.size());
    a->reset(42, oa.data());
    b->reset(42, ob.data());
    ASSERT_TRUE(same_bits(oa, ob)) << id;
    core::Rng rng(1);
    const int steps = id.compare(id.size() - 3, 3, "-v4") == 0 ? 100 : 300;  // v4: same mechanics
    for (int i = 0; i < steps; ++i) {
      const auto act = random_action(spec, rng);
      const StepResult ra = a->step(act.data(), oa.data());
      const StepResult rb = b->step(act.data(), ob.data());
      ASSERT_TRUE(same_bits(oa, ob)) << id << " step " << i;
      ASSERT_TRUE(same_bits(ra.reward, rb.reward)) << id;
      ASSERT_EQ(ra.terminated, rb.terminated);
      ASSERT_EQ(ra.truncated, rb.truncated);
      if (ra.terminated || ra.truncated) {
        a->reset(oa.data());
        b->reset(ob.data());
        ASSERT_TRUE(same_bits(oa, ob)) << id;
      }
    }
    // A different seed gives a different start.
    b->reset(43, ob.data());
    a->reset(42, oa.data());
    EXPECT_FALSE(same_bits(oa, ob)) << id;
  }
}

// Steps two envs with the same actions and expects bit-identical results.
void expect_lockstep(Env& a, Env& b, int steps, std::uint64_t action_seed, const std::string& what) {
  const EnvSpec& spec = a.spec();
  std::vector<double> oa(static_cast<std::size_t>(spec.obs_dim)), ob(oa.size());
  core::Rng rng(action_seed);
  for (int i = 0; i < steps; ++i) {
    const auto act = random_action(spec, rng);
    const StepResult ra = a.step(act.data(), oa.data());
    const StepResult rb = b.step(act.data(), ob.data());
    ASSERT_TRUE(same_bits(oa, ob)) << what << " step " << i;
    ASSERT_TRUE(same_bits(ra.reward, rb.reward)) << what << " step " << i;
    ASSERT_EQ(ra.terminated, rb.terminated) << what;
    ASSERT_EQ(ra.truncated, rb.truncated) << what;
    ASSERT_TRUE(same_bits(a.episode_return(), b.episode_return())) << what;
    ASSERT_EQ(a.episode_length(), b.episode_length()) << what;
    if (ra.terminated || ra.truncated) {
      a.reset(oa.data());
      b.reset(ob.data());
      ASSERT_TRUE(same_bits(oa, ob)) << what << ": reset after restore must use the same stream";
    }
  }
}

TEST(State, RestoreIntoFreshEnvStepsInLockstep) {
  for (const std::string& id : env_ids()) {
    auto a = make_env(id);
    const EnvSpec& spec = a->spec();
    std::vector<double> obs(static_cast<std::size_t>(spec.obs_dim));
    a->reset(7, obs.data());
    core::Rng rng(3);
    for (int i = 0; i < 60; ++i) {
      const auto act = random_action(spec, rng);
      const StepResult r = a->step(act.data(), obs.data());
      if (r.terminated || r.truncated) a->reset(obs.data());
    }
    const EnvState saved = a->state();
    auto b = make_env(id);
    b->set_state(saved);
    // The v4 ids share their mechanics with v5: fewer steps keep the suite quick.
    const bool v4 = id.compare(id.size() - 3, 3, "-v4") == 0;
    expect_lockstep(*a, *b, v4 ? 100 : 400, 11, id + " fresh");

    // Through JSON as well, and rewinding the original env itself.
    const EnvState saved2 = a->state();
    auto c = make_env(id);
    c->set_state(env_state_from_json(nlohmann::json::parse(to_json(saved2).dump())));
    expect_lockstep(*a, *c, v4 ? 50 : 200, 12, id + " json");
  }
}

TEST(State, RewindReplaysIdentically) {
  auto env = make_env("Hopper-v5");
  std::vector<double> obs(11);
  env->reset(2, obs.data());
  const EnvState s0 = env->state();
  core::Rng rng(5);
  std::vector<std::vector<double>> actions;
  std::vector<std::vector<double>> first;
  for (int i = 0; i < 100; ++i) {
    actions.push_back(random_action(env->spec(), rng));
    env->step(actions.back().data(), obs.data());
    first.push_back(obs);
  }
  env->set_state(s0);
  for (int i = 0; i < 100; ++i) {
    env->step(actions[static_cast<std::size_t>(i)].data(), obs.data());
    ASSERT_TRUE(same_bits(obs, first[static_cast<std::size_t>(i)])) << "step " << i;
  }
}

TEST(State, BadSizesAreRejected) {
  auto env = make_env("Hopper-v5");
  EnvState s = env->state();
  s.qpos.pop_back();
  EXPECT_THROW(env->set_state(s), EnvError);
}

TEST(StateJson, RoundTripIsBitExact) {
  EnvState s;
  s.qpos = {0.1, -0.0, 1.0 / 3.0, std::numeric_limits<double>::infinity(), 5e-324};
  s.qvel = {std::numeric_limits<double>::quiet_NaN(), -1e308};
  s.act = {};
  s.ctrl = {0.7};
  s.time = 12.345678901234567;
  s.elapsed_steps = 999;
  s.episode_return = -123.456e-7;
  s.episode_length = 1234567890123LL;
  s.rng = "1 2 3 0 0x0p+0";
  s.extra = {std::nextafter(1.0, 2.0)};
  const EnvState r = env_state_from_json(nlohmann::json::parse(to_json(s).dump()));
  EXPECT_TRUE(same_bits(r.qpos, s.qpos));
  EXPECT_EQ(r.qvel.size(), 2u);
  EXPECT_TRUE(std::isnan(r.qvel[0]));
  EXPECT_TRUE(same_bits(r.qvel[1], s.qvel[1]));
  EXPECT_TRUE(r.act.empty());
  EXPECT_TRUE(same_bits(r.ctrl, s.ctrl));
  EXPECT_TRUE(same_bits(r.time, s.time));
  EXPECT_EQ(r.elapsed_steps, s.elapsed_steps);
  EXPECT_TRUE(same_bits(r.episode_return, s.episode_return));
  EXPECT_EQ(r.episode_length, s.episode_length);
  EXPECT_EQ(r.rng, s.rng);
  EXPECT_TRUE(same_bits(r.extra, s.extra));
}

TEST(StateJson, MissingFieldIsAnError) {
  nlohmann::json j = to_json(EnvState{});
  j.erase("qvel");
  EXPECT_THROW(env_state_from_json(j), EnvError);
  EXPECT_THROW(env_state_from_json(nlohmann::json::array()), EnvError);
}

TEST(RewardTerms, SumToRewardForEveryTask) {
  for (const std::string& id : env_ids()) {
    auto env = make_env(id);
    const EnvSpec& spec = env->spec();
    std::vector<double> obs(static_cast<std::size_t>(spec.obs_dim));
    env->reset(17, obs.data());
    core::Rng rng(4);
    for (int i = 0; i < 200; ++i) {
      const auto act = random_action(spec, rng);
      const StepResult r = env->step(act.data(), obs.data());
      EXPECT_NEAR(testing::sum_terms(env->reward_terms()), r.reward, 1e-12) << id;
      if (r.terminated || r.truncated) env->reset(obs.data());
    }
  }
}

}  // namespace
}  // namespace graybox::envs
