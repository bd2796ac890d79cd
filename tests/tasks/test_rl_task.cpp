#include "tasks/rl_task.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "core/error.hpp"
#include "core/files.hpp"
#include "optim/trainer.hpp"

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace graybox::tasks {
namespace {

// Records everything a task reports, for exact comparisons.
class RecordingSink : public core::MetricSink {
 public:
  void metric(std::int64_t step, const std::string& name, double value) override {
    if (name == "charts/SPS") return;  // wall-clock, never reproducible
    rows.push_back({step, name, value});
  }
  void event(std::int64_t step, const std::string& kind, const std::string&) override {
    events.push_back({step, kind, 0.0});
  }
  struct Row {
    std::int64_t step;
    std::string name;
    double value;
    bool operator==(const Row& o) const {
      return step == o.step && name == o.name &&
             (value == o.value || (std::isnan(value) && std::isnan(o.value)));
    }
  };
  std::vector<Row> rows, events;
};

core::ConfigSchema schema() {
  core::ConfigSchema s;
  add_rl_schema(s);
  return s;
}

RlTaskConfig tiny_config(std::uint64_t seed, const std::string& env = "InvertedPendulum-v5",
                         int threads = 1, int update_threads = 1) {
  static const core::ConfigSchema s = schema();
  const core::Config c = core::Config::parse("", "test", s,
      {"seed=" + std::to_string(seed), "env.id=" + env, "total_steps=4096", "env.num_envs=2",
       "env.num_threads=" + std::to_string(threads), "agent.num_steps=128",
       "agent.num_minibatches=4", "agent.update_epochs=2",
       "agent.update_threads=" + std::to_string(update_threads)});
  return rl_task_config(c);
}

std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("graybox_rl_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

TEST(RlTask, SameSeedGivesIdenticalMetrics) {
  RlTask a(tiny_config(3)), b(tiny_config(3));
  RecordingSink sa, sb;
  for (int i = 0; i < 3; ++i) {
    a.iterate(sa);
    b.iterate(sb);
  }
  ASSERT_FALSE(sa.rows.empty());
  EXPECT_TRUE(sa.rows == sb.rows);
  EXPECT_EQ(a.agent().parameter_checksum(), b.agent().parameter_checksum());
}

TEST(RlTask, ThreadCountDoesNotChangeResults) {
  RlTask a(tiny_config(4, "Hopper-v5", 1, 1)), b(tiny_config(4, "Hopper-v5", 2, 2));
  RecordingSink sa, sb;
  for (int i = 0; i < 2; ++i) {
    a.iterate(sa);
    b.iterate(sb);
  }
  EXPECT_TRUE(sa.rows == sb.rows);
  EXPECT_EQ(a.agent().parameter_checksum(), b.agent().parameter_checksum());
}

TEST(RlTask, DifferentSeedsDiffer) {
  RlTask a(tiny_config(1)), b(tiny_config(2));
  EXPECT_NE(a.agent().parameter_checksum(), b.agent().parameter_checksum());
}

TEST(RlTask, CheckpointRoundTripGivesIdenticalActionsAndUpdates) {
  const std::string dir = temp_dir("ckpt");
  RlTask original(tiny_config(5, "Hopper-v5"));
  RecordingSink warmup;
  original.iterate(warmup);
  original.iterate(warmup);
  original.save(dir);

  RlTask restored(tiny_config(5, "Hopper-v5"));
  restored.load(dir);
  EXPECT_EQ(restored.steps_done(), original.steps_done());
  EXPECT_EQ(restored.current_mean_actions(), original.current_mean_actions());
  EXPECT_EQ(restored.agent().parameter_checksum(), original.agent().parameter_checksum());

  // Step both copies in lockstep: the next rollouts and updates must be identical.
  RecordingSink so, sr;
  original.iterate(so);
  restored.iterate(sr);
  original.iterate(so);
  restored.iterate(sr);
  ASSERT_FALSE(so.rows.empty());
  EXPECT_TRUE(so.rows == sr.rows);
  EXPECT_EQ(restored.agent().parameter_checksum(), original.agent().parameter_checksum());
  EXPECT_EQ(restored.current_mean_actions(), original.current_mean_actions());
}

// PBT's exploit: a copy is exact (it steps in lockstep with its source), and after reseed() it
// draws its own noise, so loser and donor part ways; the same reseed gives the same run.
TEST(RlTask, AnExactCopyStepsInLockstepAndAReseededCopyGoesItsOwnWay) {
  RlTask donor(tiny_config(5, "Hopper-v5"));
  RecordingSink warmup;
  donor.iterate(warmup);
  RlTask exact(tiny_config(6, "Hopper-v5")), own(tiny_config(6, "Hopper-v5")), again(tiny_config(7, "Hopper-v5"));
  exact.copy_state_from(donor);
  own.copy_state_from(donor);
  own.reseed(1234);
  again.copy_state_from(donor);
  again.reseed(1234);
  EXPECT_EQ(own.current_mean_actions(), donor.current_mean_actions());  // the state itself is the donor's
  EXPECT_EQ(own.steps_done(), donor.steps_done());

  RecordingSink sd, se, so, sa;
  for (int i = 0; i < 2; ++i) {
    donor.iterate(sd);
    exact.iterate(se);
    own.iterate(so);
    again.iterate(sa);
  }
  ASSERT_FALSE(sd.rows.empty());
  EXPECT_TRUE(se.rows == sd.rows);
  EXPECT_EQ(exact.agent().parameter_checksum(), donor.agent().parameter_checksum());
  EXPECT_FALSE(so.rows == sd.rows);
  EXPECT_NE(own.agent().parameter_checksum(), donor.agent().parameter_checksum());
  EXPECT_TRUE(sa.rows == so.rows);
  EXPECT_EQ(again.agent().parameter_checksum(), own.agent().parameter_checksum());
}

// A tune trial or population member trains on a TBB worker, whose LibTorch thread count is its
// own (OpenMP's is per thread) and defaults to every core: the task sets the configured count.
TEST(RlTask, TrainsWithTheConfiguredTorchThreadsOnAnyThread) {
  RlTask task(tiny_config(5));
  int seen = 0;
  std::thread worker([&] {
    optim::set_torch_threads(3);
    RecordingSink sink;
    task.iterate(sink);
    seen = optim::torch_threads();
  });
  worker.join();
  EXPECT_EQ(seen, 1);
}

TEST(RlTask, ResumedRunEqualsUninterruptedRun) {
  const std::string dir = temp_dir("resume");
  RecordingSink straight_sink;
  RlTask straight(tiny_config(6));
  for (int i = 0; i < 4; ++i) straight.iterate(straight_sink);

  RecordingSink first_half, second_half;
  {
    RlTask part(tiny_config(6));
    part.iterate(first_half);
    part.iterate(first_half);
    part.save(dir);
  }
  RlTask resumed(tiny_config(6));
  resumed.load(dir);
  resumed.iterate(second_half);
  resumed.iterate(second_half);
  std::vector<RecordingSink::Row> joined = first_half.rows;
  joined.insert(joined.end(), second_half.rows.begin(), second_half.rows.end());
  EXPECT_TRUE(joined == straight_sink.rows);
}

TEST(RlTask, HyperparameterChangeTakesEffectAtTheNextUpdate) {
  RlTask task(tiny_config(7));
  RecordingSink sink;
  task.iterate(sink);
  core::Hyperparameters hp = task.hyperparameters();
  hp.set("learning_rate", 1e-2);
  hp.set("anneal_lr", 0.0);
  hp.set("num_steps", 64.0);
  task.set_hyperparameters(hp);
  const auto before = task.steps_done();
  sink.rows.clear();
  task.iterate(sink);
  EXPECT_EQ(task.steps_done() - before, 64 * 2);
  double lr = 0;
  for (const auto& row : sink.rows) {
    if (row.name == "charts/learning_rate") lr = row.value;
  }
  EXPECT_DOUBLE_EQ(lr, 1e-2);
  hp.set("gamma", -1.0);
  EXPECT_THROW(task.set_hyperparameters(hp), std::invalid_argument);
}

TEST(RlTask, LearningRateAnnealsLinearlyAsCleanRL) {
  RlTask task(tiny_config(8));
  RecordingSink sink;
  while (task.iterate(sink)) {
  }
  std::vector<double> lrs;
  for (const auto& row : sink.rows) {
    if (row.name == "charts/learning_rate") lrs.push_back(row.value);
  }
  // 4096 steps / (128 x 2) = 16 iterations; frac = 1 - (i-1)/16.
  ASSERT_EQ(lrs.size(), 16u);
  for (std::size_t i = 0; i < lrs.size(); ++i) {
    EXPECT_NEAR(lrs[i], 3e-4 * (1.0 - static_cast<double>(i) / 16.0), 1e-15);
  }
  EXPECT_EQ(task.steps_done(), 4096);
}

TEST(RlTask, EvaluationIsDeterministic) {
  RlTask task(tiny_config(9));
  const core::EvalResult a = task.evaluate(3);
  const core::EvalResult b = task.evaluate(3);
  ASSERT_EQ(a.returns.size(), 3u);
  EXPECT_EQ(a.returns, b.returns);
  EXPECT_GT(a.mean, 0.0);
}

TEST(RlTask, ACorruptCheckpointIsAUserError) {
  const std::string dir = temp_dir("corrupt");
  RlTask task(tiny_config(10));
  task.save(dir);
  {
    std::ofstream out(dir + "/agent.pt", std::ios::trunc);
    out << "garbage";
  }
  RlTask other(tiny_config(10));
  EXPECT_THROW(other.load(dir), core::UserError);
  {
    std::ofstream out(dir + "/state.json", std::ios::trunc);
    out << "{\"format\": 1";
  }
  EXPECT_THROW(other.load(dir), core::UserError);
}

TEST(RlTask, BadEnvSettingsNameTheConfigKey) {
  static const core::ConfigSchema s = schema();
  try {
    rl_task_config(core::Config::parse("env:\n  id: Hoper-v5\n", "bad.yaml", s));
    FAIL();
  } catch (const core::ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("bad.yaml:2:3"), std::string::npos) << m;
    EXPECT_NE(m.find("Hopper-v5"), std::string::npos) << m;  // the known ids are listed
  }
  try {
    rl_task_config(core::Config::parse("env:\n  model_path: /nonexistent.xml\n", "bad.yaml", s));
    FAIL();
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("env.model_path"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace graybox::tasks

namespace graybox::tasks {
namespace {

TEST(RlTask, NonFiniteStateEndsTheRunAsDivergedNotACrash) {
  const std::string dir = temp_dir("diverge");
  RlTask task(tiny_config(11));
  RecordingSink sink;
  task.iterate(sink);
  task.save(dir);
  // Corrupt the normaliser statistics so that observations (and then everything) become NaN.
  auto state = nlohmann::json::parse(core::read_file(dir + "/state.json"));
  for (auto& v : state["obs_rms"]["var"]) v = -1.0;
  core::write_file_atomic(dir + "/state.json", state.dump());
  RlTask broken(tiny_config(11));
  broken.load(dir);
  RecordingSink after;
  broken.iterate(after);
  EXPECT_TRUE(broken.diverged());
  EXPECT_TRUE(broken.finished());
  EXPECT_FALSE(broken.iterate(after));
  bool recorded = false;
  for (const auto& e : after.events) recorded |= e.name == "diverged";
  EXPECT_TRUE(recorded);
}

TEST(RlTask, LearningRateFollowsAConfiguredSchedule) {
  static const core::ConfigSchema s = schema();
  const core::Config c = core::Config::parse("", "test", s,
      {"seed=1", "env.id=InvertedPendulum-v5", "total_steps=2048", "env.num_envs=2", "agent.num_steps=128",
       "agent.num_minibatches=4", "agent.update_epochs=1", "agent.lr_schedule.type=sgdr",
       "agent.lr_schedule.t0=1024", "agent.lr_schedule.min=0.1"});
  RlTask task(rl_task_config(c));
  RecordingSink sink;
  while (task.iterate(sink)) {
  }
  std::vector<double> lrs;
  for (const auto& row : sink.rows) {
    if (row.name == "charts/learning_rate") lrs.push_back(row.value);
  }
  ASSERT_EQ(lrs.size(), 8u);  // 2048 / 256
  // SGDR with T_0 = 1024 steps: restarts at step 1024 (iteration 5).
  for (std::size_t i = 0; i < lrs.size(); ++i) {
    const double t = static_cast<double>((i * 256) % 1024) / 1024.0;
    EXPECT_NEAR(lrs[i], 3e-4 * (0.1 + 0.45 * (1.0 + std::cos(M_PI * t))), 1e-12) << i;
  }
}

TEST(RlTask, ABadScheduleNamesItsKey) {
  static const core::ConfigSchema s = schema();
  try {
    rl_task_config(core::Config::parse("agent:\n  lr_schedule:\n    type: recorded\n    file: /nonexistent.yaml\n",
                                       "bad.yaml", s));
    FAIL();
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("agent.lr_schedule.file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace graybox::tasks
