// A deployed policy (PolicyController over a run built outside the env) takes the same actions
// and sees the same observations as the policy stepping the control env on that instance.
#include "dac/policy_controller.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "dac/control_config.hpp"
#include "dac/control_env.hpp"
#include "tests/dac/tiny.hpp"

namespace graybox::dac {
namespace {

struct Trace {
  std::vector<double> lr, wd, obs;
};

TEST(PolicyController, DeployedActsAsThePolicyInTheEnv) {
  const MetaTrainConfig config = testing::tiny_meta_config();
  MetaTrainer trainer(config);
  core::NullSink none;
  ASSERT_TRUE(trainer.iterate(none));
  nlohmann::json meta;
  meta["control"] = control_options_to_json(config.control);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("graybox_policy_" + std::to_string(::getpid()) + ".pt")).string();
  trainer.policy(meta.dump()).save(path);

  const Instance& in = config.instances.at(1);  // AdamW, 60 minibatches: 6 control steps
  const std::uint64_t run_seed = 21;
  // The policy in the env.
  Trace env_trace;
  {
    LoadedPolicy loaded = load_control_policy(path);
    ControlEnv env(config.instances, loaded.options);
    std::vector<double> obs(ControlEnv::kObsDim);
    double action[2];
    env.reset_instance(1, run_seed, obs.data());
    while (!env.done()) {
      loaded.policy->act(obs.data(), action);
      env.step(action, obs.data());
      env_trace.lr.push_back(env.lr());
      env_trace.wd.push_back(env.weight_decay());
      env_trace.obs.insert(env_trace.obs.end(), obs.begin(), obs.end());
    }
  }
  // Deployed on a run of the same instance built here.
  Trace deployed;
  {
    const optim::Split data = tasks::load_supervised_data(in.data, in.seed);
    const std::int64_t per_epoch = (data.train.size() + in.batch_size - 1) / in.batch_size;
    tasks::SupervisedTask task(task_config(in, run_seed, per_epoch), data);
    PolicyController controller(load_control_policy(path), task, in.budget);
    controller.start(in.lr, in.weight_decay);
    std::vector<double> obs(ControlEnv::kObsDim);
    while (!controller.done()) {
      controller.step(none);
      deployed.lr.push_back(controller.loop().lr());
      deployed.wd.push_back(controller.loop().weight_decay());
      controller.loop().write_obs(obs.data());
      deployed.obs.insert(deployed.obs.end(), obs.begin(), obs.end());
      EXPECT_DOUBLE_EQ(task.learning_rate_now(), controller.loop().lr());
    }
  }
  ASSERT_EQ(env_trace.lr.size(), 6u);
  EXPECT_EQ(env_trace.lr, deployed.lr);
  EXPECT_EQ(env_trace.wd, deployed.wd);
  EXPECT_EQ(env_trace.obs, deployed.obs);
  EXPECT_NE(env_trace.lr.front(), env_trace.lr.back());  // the policy does move the lr
  std::filesystem::remove(path);
}

TEST(PolicyController, APolicyWithoutControlOptionsIsRefusedNamingTheFile) {
  MetaTrainer trainer(testing::tiny_meta_config());
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("graybox_policy_nometa_" + std::to_string(::getpid()) + ".pt")).string();
  trainer.policy("{}").save(path);
  try {
    load_control_policy(path);
    FAIL() << "no error";
  } catch (const core::UserError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace graybox::dac
