// A control env's episode saved at any step and loaded into a fresh env continues with the
// same observations and rewards, bit for bit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "dac/control_env.hpp"
#include "tests/dac/tiny.hpp"

namespace graybox::dac {
namespace {

using testing::temp_dir;

ControlOptions options(ActionMode mode = ActionMode::kMultiplicative) {
  ControlOptions o;
  o.action_mode = mode;
  o.control_interval = 10;
  o.val_interval = 2;
  return o;
}

// Steps the env to its end with actions that vary by step; returns every observation and reward.
std::vector<double> run_to_end(ControlEnv& env, int from_step) {
  std::vector<double> trace, obs(ControlEnv::kObsDim);
  for (int t = from_step; !env.done(); ++t) {
    const double action[2] = {0.3 * ((t % 3) - 1.0), -0.2 * (t % 2)};
    const envs::StepResult r = env.step(action, obs.data());
    trace.insert(trace.end(), obs.begin(), obs.end());
    trace.push_back(r.reward);
  }
  return trace;
}

// (Relative actions offset the run's start values, which the checkpoint must keep.)
TEST(ControlEnvCheckpoint, AnEpisodeSavedAtAnyStepContinuesIdentically) {
  for (const auto mode : {ActionMode::kMultiplicative, ActionMode::kRelative}) {
  for (const int at : {0, 1, 3}) {
    for (const auto kind : {optim::OptimizerKind::kSgd, optim::OptimizerKind::kAdamW}) {
      const std::vector<Instance> set = {testing::tiny_instance(kind)};
      ControlEnv original(set, options(mode));
      std::vector<double> obs(ControlEnv::kObsDim);
      original.reset_instance(0, 11, obs.data());
      std::vector<double> prefix = run_to_end(original, 0);  // the reference, uninterrupted
      ControlEnv first(set, options(mode));
      first.reset_instance(0, 11, obs.data());
      for (int t = 0; t < at; ++t) {
        const double action[2] = {0.3 * ((t % 3) - 1.0), -0.2 * (t % 2)};
        first.step(action, obs.data());
      }
      const std::string dir = temp_dir("env_" + std::to_string(at));
      first.save(dir);
      ControlEnv second(set, options(mode));
      second.load(dir);
      std::vector<double> saved_obs(ControlEnv::kObsDim), loaded_obs(ControlEnv::kObsDim);
      first.write_obs(saved_obs.data());
      second.write_obs(loaded_obs.data());
      EXPECT_EQ(saved_obs, loaded_obs) << "at step " << at;
      EXPECT_EQ(second.lr(), first.lr());
      const std::vector<double> rest = run_to_end(second, at);
      const std::vector<double> expected(prefix.end() - static_cast<std::ptrdiff_t>(rest.size()), prefix.end());
      EXPECT_EQ(rest, expected) << "saved at step " << at << (mode == ActionMode::kRelative ? " (relative)" : "");
      std::filesystem::remove_all(dir);
    }
  }
  }
}

TEST(ControlEnvCheckpoint, ABrokenEpisodeFileIsAUserErrorNamingIt) {
  const std::string dir = temp_dir("broken");
  ControlEnv env({testing::tiny_instance()}, options());
  try {
    env.load(dir);
    FAIL() << "no error";
  } catch (const core::UserError& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/episode.json"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace graybox::dac
