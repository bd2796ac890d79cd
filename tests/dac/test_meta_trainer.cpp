// Meta-training: PPO over tiny control envs side by side; a checkpoint continues bit for bit,
// the thread count changes nothing, and the saved policy acts as the agent does.
#include "dac/meta_trainer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "tests/dac/tiny.hpp"

namespace graybox::dac {
namespace {

// Records every metric but the timings.
struct TraceSink final : core::MetricSink {
  std::vector<std::pair<std::string, double>> values;
  void metric(std::int64_t step, const std::string& name, double value) override {
    if (name.find("SPS") != std::string::npos || name.find("per_second") != std::string::npos) return;
    values.emplace_back(std::to_string(step) + " " + name, value);
  }
  void event(std::int64_t, const std::string&, const std::string&) override {}
};

using testing::temp_dir;

using testing::tiny_meta_config;

TEST(MetaTrainer, ACheckpointContinuesBitForBit) {
  TraceSink whole;
  MetaTrainer uninterrupted(tiny_meta_config());
  while (uninterrupted.iterate(whole)) {
  }
  EXPECT_EQ(uninterrupted.steps_done(), 48);
  EXPECT_GT(uninterrupted.episodes_done(), 10);

  TraceSink parts;
  const std::string dir = temp_dir("resume");
  {
    MetaTrainer first(tiny_meta_config());
    ASSERT_TRUE(first.iterate(parts));
    first.save(dir);
  }
  MetaTrainer second(tiny_meta_config());
  second.load(dir);
  EXPECT_EQ(second.steps_done(), 16);
  while (second.iterate(parts)) {
  }
  ASSERT_EQ(whole.values.size(), parts.values.size());
  for (std::size_t i = 0; i < whole.values.size(); ++i) {
    EXPECT_EQ(whole.values[i], parts.values[i]) << i;
  }
  EXPECT_EQ(uninterrupted.minibatches_done(), second.minibatches_done());
  std::filesystem::remove_all(dir);
}

TEST(MetaTrainer, TheThreadCountChangesNothing) {
  TraceSink one, two;
  MetaTrainer a(tiny_meta_config(1)), b(tiny_meta_config(2));
  ASSERT_TRUE(a.iterate(one));
  ASSERT_TRUE(b.iterate(two));
  EXPECT_EQ(one.values, two.values);
}

TEST(MetaTrainer, TheSavedPolicyActsAsTheAgentDoes) {
  TraceSink sink;
  MetaTrainer trainer(tiny_meta_config());
  ASSERT_TRUE(trainer.iterate(sink));  // one update: a policy that is not the initial one
  const std::string dir = temp_dir("policy");
  trainer.policy("{\"note\": 1}").save(dir + "/policy.pt");
  agents::PpoPolicy loaded = agents::PpoPolicy::load(dir + "/policy.pt");
  EXPECT_EQ(loaded.meta(), "{\"note\": 1}");
  EXPECT_EQ(loaded.obs_dim(), ControlEnv::kObsDim);
  EXPECT_EQ(loaded.act_dim(), 2);
  core::Rng rng(3);
  for (int k = 0; k < 50; ++k) {
    std::vector<double> obs(ControlEnv::kObsDim);
    for (auto& x : obs) x = 4.0 * rng.normal();
    double from_agent[2], from_file[2];
    trainer.agent().act_deterministic(obs.data(), 1, from_agent);
    loaded.act(obs.data(), from_file);
    EXPECT_EQ(from_agent[0], from_file[0]);
    EXPECT_EQ(from_agent[1], from_file[1]);
  }
  std::filesystem::remove_all(dir);
}

TEST(MetaTrainer, AMissingOrBrokenPolicyFileIsAUserErrorNamingIt) {
  const std::string dir = temp_dir("broken_policy");
  for (const std::string& path : {dir + "/absent.pt", dir + "/garbage.pt"}) {
    if (path.find("garbage") != std::string::npos) core::write_file_atomic(path, "not a policy");
    try {
      agents::PpoPolicy::load(path);
      FAIL() << "no error for " << path;
    } catch (const core::UserError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace graybox::dac
