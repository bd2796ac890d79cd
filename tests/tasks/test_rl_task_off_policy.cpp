// SAC and TD3 behind RlTask: checkpoints and in-memory copies step in lockstep, keys reach the
// agent, keys of another algorithm are errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "agents/sac.hpp"
#include "core/error.hpp"
#include "tasks/rl_task.hpp"

namespace fs = std::filesystem;

namespace graybox::tasks {
namespace {

class Rows : public core::MetricSink {
 public:
  void metric(std::int64_t step, const std::string& name, double value) override {
    if (name != "charts/SPS") rows.emplace_back(std::to_string(step) + " " + name + " " + std::to_string(value));
  }
  void event(std::int64_t, const std::string&, const std::string&) override {}
  std::vector<std::string> rows;
};

const core::ConfigSchema& schema() {
  static const core::ConfigSchema s = [] {
    core::ConfigSchema schema;
    add_rl_schema(schema);
    return schema;
  }();
  return s;
}

core::Config config(const std::string& algo, std::vector<std::string> sets = {}) {
  std::vector<std::string> all = {"agent.algo=" + algo, "env.id=InvertedPendulum-v5", "total_steps=2000",
                                  "agent.learning_starts=60", "agent.batch_size=32", "agent.hidden_sizes=[32,32]",
                                  "agent.iteration_steps=40", "agent.buffer_size=500"};
  all.insert(all.end(), sets.begin(), sets.end());
  return core::Config::parse("", "test", schema(), all);
}

std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("graybox_offpolicy_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void lockstep(RlTask& a, RlTask& b, int iterations) {
  Rows ra, rb;
  for (int i = 0; i < iterations; ++i) {
    a.iterate(ra);
    b.iterate(rb);
  }
  ASSERT_FALSE(ra.rows.empty());
  EXPECT_EQ(ra.rows, rb.rows);
  EXPECT_EQ(a.agent().parameter_checksum(), b.agent().parameter_checksum());
  EXPECT_EQ(a.current_mean_actions(), b.current_mean_actions());
}

class OffPolicyTask : public ::testing::TestWithParam<std::string> {};

TEST_P(OffPolicyTask, CheckpointRoundTripStepsInLockstepWithTheBuffer) {
  const std::string dir = temp_dir(GetParam() + "_ckpt");
  RlTask original(rl_task_config(config(GetParam())));
  Rows warmup;
  for (int i = 0; i < 3; ++i) original.iterate(warmup);  // past learning_starts: updates ran
  original.save(dir);
  EXPECT_TRUE(fs::exists(dir + "/replay_buffer.bin"));
  RlTask restored(rl_task_config(config(GetParam())));
  restored.load(dir);
  EXPECT_EQ(restored.steps_done(), original.steps_done());
  lockstep(original, restored, 2);
}

// With two LibTorch threads the twin critics run side by side (agents/twin_critic_pass.hpp):
// the same numbers as one thread, bit for bit.
TEST_P(OffPolicyTask, TwoThreadsGiveTheNumbersOfOne) {
  RlTask one(rl_task_config(config(GetParam(), {"torch_threads=1"})));
  RlTask two(rl_task_config(config(GetParam(), {"torch_threads=2"})));
  lockstep(one, two, 4);
}

TEST_P(OffPolicyTask, WithoutTheBufferAResumeStartsEmptyAndTwoResumesAgree) {
  const std::string dir = temp_dir(GetParam() + "_nobuf");
  const auto cfg = rl_task_config(config(GetParam(), {"checkpoint.replay_buffer=false"}));
  RlTask original(cfg);
  Rows warmup;
  for (int i = 0; i < 3; ++i) original.iterate(warmup);
  original.save(dir);
  EXPECT_FALSE(fs::exists(dir + "/replay_buffer.bin"));
  RlTask a(cfg), b(cfg);
  a.load(dir);
  b.load(dir);
  EXPECT_EQ(dynamic_cast<agents::OffPolicyAgent&>(a.agent()).replay_buffer().size(), 0);
  lockstep(a, b, 2);
  EXPECT_NE(a.agent().parameter_checksum(), 0.0);
}

TEST_P(OffPolicyTask, ACopyStepsInLockstepAndCopiesTheBuffer) {
  RlTask donor(rl_task_config(config(GetParam())));
  Rows warmup;
  for (int i = 0; i < 3; ++i) donor.iterate(warmup);
  RlTask copy(rl_task_config(config(GetParam(), {"seed=9"})));
  copy.copy_state_from(donor);
  EXPECT_TRUE(dynamic_cast<agents::OffPolicyAgent&>(copy.agent()).replay_buffer() ==
              dynamic_cast<agents::OffPolicyAgent&>(donor.agent()).replay_buffer());
  lockstep(donor, copy, 2);
}

TEST_P(OffPolicyTask, KeysReachTheAgentThroughSet) {
  const std::string key = GetParam() == "sac" ? "q_lr" : "exploration_noise";
  RlTask task(rl_task_config(config(GetParam(), {"agent.tau=0.02", "agent." + key + "=0.03"})));
  EXPECT_EQ(task.hyperparameters().get("tau"), 0.02);
  EXPECT_EQ(task.hyperparameters().get(key), 0.03);
  // A bad value set by a controller is refused, naming the key.
  core::Hyperparameters hp = task.hyperparameters();
  hp.set("batch_size", 0);
  EXPECT_THROW(task.set_hyperparameters(hp), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, OffPolicyTask, ::testing::Values("sac", "td3"));

TEST(AgentKeys, AKeyOfAnotherAlgorithmIsAnErrorNamingIt) {
  try {
    core::Config::parse("agent:\n  algo: ppo\n  tau: 0.01\n", "bad.yaml", schema());
    FAIL();
  } catch (const core::ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("bad.yaml:3:3: agent.tau: a key of agent.algo sac, td3"), std::string::npos) << m;
  }
  EXPECT_THROW(core::Config::parse("", "t", schema(), {"agent.algo=sac", "agent.num_minibatches=4"}), core::ConfigError);
  EXPECT_THROW(core::Config::parse("", "t", schema(), {"agent.algo=td3", "agent.q_lr=0.1"}), core::ConfigError);
}

TEST(AgentKeys, TheResolvedConfigHoldsOnlyTheChosenAlgorithmsKeysWithItsDefaults) {
  const std::string sac = core::Config::parse("", "t", schema(), {"agent.algo=sac"}).to_yaml();
  EXPECT_EQ(sac.find("num_minibatches"), std::string::npos);
  EXPECT_EQ(sac.find("exploration_noise"), std::string::npos);
  EXPECT_NE(sac.find("learning_starts: 5000"), std::string::npos) << sac;
  EXPECT_NE(sac.find("q_lr"), std::string::npos);
  const core::Config td3 = core::Config::parse("", "t", schema(), {"agent.algo=td3"});
  EXPECT_EQ(td3.get_int("agent.learning_starts"), 25000);
  EXPECT_EQ(td3.get_int_list("agent.hidden_sizes"), (std::vector<long long>{256, 256}));
  const std::string ppo = core::Config::parse("", "t", schema()).to_yaml();
  EXPECT_EQ(ppo.find("tau:"), std::string::npos);
  EXPECT_NE(ppo.find("num_minibatches"), std::string::npos);
  // The resolved config reads back as the same config.
  EXPECT_EQ(core::Config::parse(sac, "t", schema()).to_yaml(), sac);
}

}  // namespace
}  // namespace graybox::tasks
