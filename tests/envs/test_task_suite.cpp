// Properties every task shares: model_path loading, names a model must have, the checked step,
// and VecEnv determinism on the larger tasks.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "envs/embedded_models.hpp"
#include "envs/env.hpp"
#include "envs/vec_env.hpp"
#include "tests/envs/env_test_util.hpp"

namespace graybox::envs {
namespace {

using testing::as_mujoco;
using testing::same_bits;
using testing::write_temp_file;

// The text of the model file an env was built from.
std::string builtin_text(Env& env) {
  std::string file = as_mujoco(env).model_name();
  file = file.substr(0, file.find(' '));
  const unsigned char* bytes = nullptr;
  std::size_t size = 0;
  if (!embedded_model(file, &bytes, &size)) ADD_FAILURE() << "no embedded model " << file;
  return std::string(reinterpret_cast<const char*>(bytes), size);
}

TEST(TaskSuite, EveryTaskLoadsItsModelFromAFile) {
  for (const std::string& id : env_ids()) {
    auto builtin = make_env(id);
    EnvOptions options;
    options.model_path = write_temp_file(id + ".xml", builtin_text(*builtin));
    auto from_file = make_env(id, options);
    EXPECT_EQ(as_mujoco(*from_file).model_name(), options.model_path);
    std::vector<double> a(static_cast<std::size_t>(builtin->spec().obs_dim));
    std::vector<double> b(a.size());
    builtin->reset(3, a.data());
    from_file->reset(3, b.data());
    EXPECT_TRUE(same_bits(a, b)) << id;
  }
}

TEST(TaskSuite, AMissingNameIsNamed) {
  // One name each task looks up (not referenced elsewhere in the file).
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"InvertedPendulum-v5", "hinge"},     {"InvertedDoublePendulum-v5", "tip"},
      {"Reacher-v5", "fingertip"},          {"Reacher-v4", "target_y"},
      {"Pusher-v5", "tips_arm"},            {"Pusher-v4", "goal"},
      {"Swimmer-v5", "slider2"},            {"Hopper-v5", "rooty"},
      {"HalfCheetah-v5", "rootz"},          {"Walker2d-v5", "rootz"},
      {"Walker2d-v4", "rooty"},             {"Ant-v5", "torso"},
      {"Humanoid-v5", "torso"},             {"HumanoidStandup-v4", "root"}};
  for (const auto& [id, name] : cases) {
    auto env = make_env(id);
    std::string text = builtin_text(*env);
    const std::string attr = "name=\"" + name + "\"";
    const std::size_t at = text.find(attr);
    ASSERT_NE(at, std::string::npos) << id << " " << name;
    text.replace(at, attr.size(), "name=\"" + name + "_renamed\"");
    EnvOptions options;
    options.model_path = write_temp_file("renamed_" + id + ".xml", text);
    try {
      make_env(id, options);
      ADD_FAILURE() << id << ": a model without '" << name << "' must be rejected";
    } catch (const EnvError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("'" + name + "'"), std::string::npos) << msg;
      EXPECT_NE(msg.find(options.model_path), std::string::npos) << msg;
    }
  }
}

TEST(TaskSuite, AModelOfAnotherTaskIsRejected) {
  EnvOptions options;
  auto ant = make_env("Ant-v5");
  options.model_path = write_temp_file("ant_for_humanoid.xml", builtin_text(*ant));
  EXPECT_THROW(make_env("Humanoid-v5", options), EnvError);
  auto walker = make_env("Walker2d-v5");
  options.model_path = write_temp_file("walker_for_cheetah.xml", builtin_text(*walker));
  EXPECT_THROW(make_env("HalfCheetah-v5", options), EnvError);  // same sizes, other names
}

TEST(TaskSuite, CheckedStepRejectsAWrongActionSize) {
  for (const std::string& id : env_ids()) {
    auto env = make_env(id);
    std::vector<double> obs;
    obs.resize(static_cast<std::size_t>(env->spec().obs_dim));
    env->reset(1, obs.data());
    const std::size_t n = static_cast<std::size_t>(env->spec().act_dim);
    EXPECT_THROW(step_checked(*env, std::vector<double>(n + 1, 0.0), obs), EnvError) << id;
    EXPECT_THROW(step_checked(*env, std::vector<double>(n - 1, 0.0), obs), EnvError) << id;
    EXPECT_EQ(env->episode_length(), 0) << id << ": a rejected action must not step";
    obs.clear();
    EXPECT_NO_THROW(step_checked(*env, std::vector<double>(n, 0.0), obs));
    EXPECT_EQ(obs.size(), static_cast<std::size_t>(env->spec().obs_dim));
  }
}

TEST(TaskSuite, VecEnvOnLargerTasksDoesNotDependOnThreads) {
  for (const char* id : {"Ant-v5", "Humanoid-v5", "Walker2d-v5", "Pusher-v5"}) {
    const int n = 4;
    VecEnv one(id, EnvOptions{}, n, 9, 1);
    VecEnv two(id, EnvOptions{}, n, 9, 2);
    ASSERT_TRUE(same_bits(one.reset(), two.reset())) << id;
    core::Rng rng(5);
    int ended = 0;
    for (int i = 0; i < 60; ++i) {
      std::vector<double> actions;
      for (int k = 0; k < n; ++k) {
        const auto a = testing::random_action(one.spec(), rng);
        actions.insert(actions.end(), a.begin(), a.end());
      }
      const VecStepResult r1 = one.step(actions);
      const VecStepResult& r2 = two.step(actions);
      ASSERT_TRUE(same_bits(r1.obs, r2.obs)) << id << " step " << i;
      ASSERT_TRUE(same_bits(r1.final_obs, r2.final_obs)) << id << " step " << i;
      ASSERT_TRUE(same_bits(r1.rewards, r2.rewards)) << id << " step " << i;
      ASSERT_EQ(r1.terminated, r2.terminated);
      ASSERT_EQ(r1.truncated, r2.truncated);
      ended += static_cast<int>(r1.episodes.size());
    }
    if (std::string(id) == "Pusher-v5") {
      EXPECT_EQ(ended, 0);  // 100-step episodes
    }
  }
}

}  // namespace
}  // namespace graybox::envs
