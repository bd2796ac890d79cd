#include "dac/control_env.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/dac/tiny.hpp"

namespace graybox::dac {
namespace {

using testing::tiny_instance;

ControlOptions tiny_options() {
  ControlOptions o;
  o.control_interval = 10;
  o.val_interval = 2;
  return o;
}

// Records every minibatch's training loss of a plain SupervisedTask.
struct LossSink final : core::MetricSink {
  std::vector<double> losses;
  void metric(std::int64_t, const std::string& name, double value) override {
    if (name == "train/loss") losses.push_back(value);
  }
  void event(std::int64_t, const std::string&, const std::string&) override {}
};

void expect_bounded(const std::vector<double>& obs) {
  ASSERT_EQ(obs.size(), static_cast<std::size_t>(ControlEnv::kObsDim));
  for (const double x : obs) {
    EXPECT_TRUE(std::isfinite(x));
    EXPECT_LE(std::abs(x), 10.0);
  }
}

TEST(ControlEnv, ObservationAtResetAndAfterAStep) {
  ControlEnv env({tiny_instance()}, tiny_options());
  EXPECT_EQ(env.spec().obs_dim, 10);
  EXPECT_EQ(env.spec().act_dim, 2);
  EXPECT_EQ(env.spec().max_episode_steps, 6);
  std::vector<double> obs(10);
  env.reset_instance(0, 3, obs.data());
  expect_bounded(obs);
  const double chance = std::log(3.0);
  EXPECT_DOUBLE_EQ(obs[0], 0.0);  // L_0 = ln C
  EXPECT_DOUBLE_EQ(obs[3], std::log(env.task().evaluate_split("val").loss / chance));
  EXPECT_DOUBLE_EQ(obs[4], 0.0);
  EXPECT_DOUBLE_EQ(obs[5], 0.0);
  // lr 0.05 in [1e-5, 1]: (log10 0.05 + 5) / 5 · 2 − 1; wd 1e-3 in [1e-6, 1]: (−3 + 6) / 6 · 2 − 1 = 0
  EXPECT_NEAR(obs[6], 2.0 * (std::log10(0.05) + 5.0) / 5.0 - 1.0, 1e-12);
  EXPECT_NEAR(obs[7], 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(obs[8], 0.0);
  EXPECT_DOUBLE_EQ(obs[9], 0.0);
  const double val_at_reset = obs[3];

  // The same run as a plain task, K minibatches at the instance's values: the env's step runs
  // exactly those minibatches.
  const Instance in = tiny_instance();
  const optim::Split data = tasks::load_supervised_data(in.data, in.seed);
  tasks::SupervisedTask plain(task_config(in, 3, env.task().steps_per_epoch()), data);
  LossSink sink;
  plain.train(10, sink);
  ASSERT_EQ(sink.losses.size(), 10u);
  double mean = 0;
  for (const double l : sink.losses) mean += l / 10.0;

  const double keep[2] = {0.0, 0.0};
  env.step(keep, obs.data());
  expect_bounded(obs);
  EXPECT_EQ(env.minibatches_done(), 10);
  EXPECT_NEAR(env.last_train_loss(), mean, 1e-9);
  EXPECT_NEAR(obs[0], std::log(mean / chance), 1e-9);
  DiscountedStats stats(env.options().feature_decay);
  for (const double l : sink.losses) stats.add(std::log(l) - std::log(chance));
  EXPECT_NEAR(obs[1], stats.mean(), 1e-9);
  EXPECT_NEAR(obs[2], std::sqrt(stats.variance()), 1e-9);
  EXPECT_GT(obs[2], 0.0);
  EXPECT_NEAR(obs[4], std::log10(env.task().trainer().gradient_norm()), 1e-12);
  EXPECT_DOUBLE_EQ(obs[5], 0.0);  // one update direction so far
  EXPECT_DOUBLE_EQ(obs[8], 10.0 / 60.0);
  EXPECT_DOUBLE_EQ(obs[3], val_at_reset);  // val_interval 2: not measured after step 1

  env.step(keep, obs.data());
  EXPECT_NE(obs[5], 0.0);
  EXPECT_GE(obs[5], -1.0);
  EXPECT_LE(obs[5], 1.0);
  EXPECT_NE(obs[3], val_at_reset);  // measured after step 2
  EXPECT_DOUBLE_EQ(obs[3], std::log(env.task().evaluate_split("val").loss / chance));
}

TEST(ControlEnv, MultiplicativeActionsAreBoundedPerStepAndByRange) {
  ControlOptions o = tiny_options();
  o.max_log10_change = 0.5;
  o.lr_max = 0.1;
  ControlEnv env({tiny_instance()}, o);
  std::vector<double> obs(10);
  env.reset_instance(0, 1, obs.data());
  EXPECT_DOUBLE_EQ(env.lr(), 0.05);
  const double down[2] = {-7.0, 0.5};  // clipped to −1: ×10^−0.5; wd ×10^0.25
  env.step(down, obs.data());
  EXPECT_NEAR(env.lr(), 0.05 * std::pow(10.0, -0.5), 1e-15);
  EXPECT_NEAR(env.weight_decay(), 1e-3 * std::pow(10.0, 0.25), 1e-15);
  EXPECT_DOUBLE_EQ(env.task().trainer().settings().lr, env.lr());  // the optimizer ran with it
  EXPECT_DOUBLE_EQ(env.task().trainer().settings().weight_decay, env.weight_decay());
  const double up[2] = {1.0, -1.0};
  env.step(up, obs.data());
  EXPECT_NEAR(env.lr(), 0.05, 1e-15);
  env.step(up, obs.data());
  EXPECT_DOUBLE_EQ(env.lr(), 0.1);  // 0.158 clamped to lr_max
  EXPECT_DOUBLE_EQ(obs[6], 1.0);
  const double nan[2] = {std::nan(""), 0.0};
  env.step(nan, obs.data());
  EXPECT_DOUBLE_EQ(env.lr(), 0.1);  // a NaN component keeps the value
}

TEST(ControlEnv, AbsoluteActionsAreLog10ValuesClippedToTheRange) {
  ControlOptions o = tiny_options();
  o.action_mode = ActionMode::kAbsolute;
  ControlEnv env({tiny_instance()}, o);
  EXPECT_DOUBLE_EQ(env.spec().act_low[0], -5.0);
  EXPECT_DOUBLE_EQ(env.spec().act_high[0], 0.0);
  EXPECT_DOUBLE_EQ(env.spec().act_low[1], -6.0);
  std::vector<double> obs(10);
  env.reset_instance(0, 1, obs.data());
  const double a[2] = {-2.0, -4.0};
  env.step(a, obs.data());
  EXPECT_NEAR(env.lr(), 0.01, 1e-15);
  EXPECT_NEAR(env.weight_decay(), 1e-4, 1e-18);
  EXPECT_DOUBLE_EQ(env.task().trainer().settings().lr, env.lr());
  const double out[2] = {3.0, -20.0};
  env.step(out, obs.data());
  EXPECT_DOUBLE_EQ(env.lr(), 1.0);
  EXPECT_DOUBLE_EQ(env.weight_decay(), 1e-6);

  ControlOptions lr_only = o;
  lr_only.control_weight_decay = false;
  ControlEnv one({tiny_instance()}, lr_only);
  EXPECT_EQ(one.spec().act_dim, 1);
  one.reset_instance(0, 1, obs.data());
  const double b[1] = {-1.5};
  one.step(b, obs.data());
  EXPECT_NEAR(one.lr(), std::pow(10.0, -1.5), 1e-15);
  EXPECT_DOUBLE_EQ(one.weight_decay(), 1e-3);
}

TEST(ControlEnv, RelativeActionsOffsetTheStartValueAndDoNotAccumulate) {
  ControlOptions o = tiny_options();
  o.action_mode = ActionMode::kRelative;
  o.max_log10_offset = 1.5;
  o.lr_max = 0.1;
  ControlEnv env({tiny_instance()}, o);
  EXPECT_DOUBLE_EQ(env.spec().act_low[0], -1.0);
  EXPECT_DOUBLE_EQ(env.spec().act_high[1], 1.0);
  std::vector<double> obs(10);
  env.reset_instance(0, 1, obs.data());
  const double down[2] = {-0.5, 0.2};  // lr 0.05·10^−0.75, wd 1e-3·10^0.3
  env.step(down, obs.data());
  EXPECT_NEAR(env.lr(), 0.05 * std::pow(10.0, -0.75), 1e-15);
  EXPECT_NEAR(env.weight_decay(), 1e-3 * std::pow(10.0, 0.3), 1e-15);
  EXPECT_DOUBLE_EQ(env.task().trainer().settings().lr, env.lr());
  env.step(down, obs.data());  // the same action again: the same values, not a second change
  EXPECT_NEAR(env.lr(), 0.05 * std::pow(10.0, -0.75), 1e-15);
  EXPECT_NEAR(env.weight_decay(), 1e-3 * std::pow(10.0, 0.3), 1e-15);
  const double keep[2] = {0.0, 0.0};
  env.step(keep, obs.data());
  EXPECT_NEAR(env.lr(), 0.05, 1e-15);
  EXPECT_NEAR(env.weight_decay(), 1e-3, 1e-18);
  const double beyond[2] = {9.0, -9.0};  // clipped to ±1: lr 0.05·10^1.5 clamped to lr_max
  env.step(beyond, obs.data());
  EXPECT_DOUBLE_EQ(env.lr(), 0.1);
  EXPECT_NEAR(env.weight_decay(), 1e-3 * std::pow(10.0, -1.5), 1e-15);
  const double nan[2] = {std::nan(""), 0.0};
  env.step(nan, obs.data());
  EXPECT_DOUBLE_EQ(env.lr(), 0.1);  // a NaN component keeps the value
  // The next episode offsets its own start.
  env.reset_instance(0, 2, obs.data());
  env.step(keep, obs.data());
  EXPECT_NEAR(env.lr(), 0.05, 1e-15);
}

TEST(ControlEnv, ARelativeBaseScheduleMovesTheStartValueAtTheMiddleOfEachStep) {
  ControlOptions o = tiny_options();
  o.control_interval = 25;  // a budget of 60: steps of 25, 25 and 10 minibatches
  o.action_mode = ActionMode::kRelative;
  o.base_schedule = "cosine";
  ControlEnv env({tiny_instance()}, o);
  std::vector<double> obs(10);
  env.reset_instance(0, 1, obs.data());
  const auto cosine = [](double t) { return 0.5 * (1.0 + std::cos(M_PI * t / 60.0)); };
  const double keep[2] = {0.0, 0.0};
  env.step(keep, obs.data());
  EXPECT_NEAR(env.lr(), 0.05 * cosine(12.5), 1e-15);
  EXPECT_NEAR(env.weight_decay(), 1e-3, 1e-18);  // the base moves the lr only
  const double up[2] = {0.5, 0.0};  // the action offsets the scheduled value
  env.step(up, obs.data());
  EXPECT_NEAR(env.lr(), 0.05 * cosine(37.5) * std::pow(10.0, 0.5), 1e-15);
  env.step(keep, obs.data());
  EXPECT_NEAR(env.lr(), 0.05 * cosine(55.0), 1e-15);
  EXPECT_TRUE(env.done());

  o.action_mode = ActionMode::kMultiplicative;  // only the relative mode has a base
  EXPECT_THROW(check_options(o), std::invalid_argument);
  o.action_mode = ActionMode::kRelative;
  o.base_schedule = "random";
  EXPECT_THROW(check_options(o), std::invalid_argument);
}

TEST(ControlEnv, DenseRewardIsMinusTheChangeOfLogTrainingLoss) {
  ControlEnv env({tiny_instance()}, tiny_options());
  std::vector<double> obs(10);
  env.reset_instance(0, 2, obs.data());
  double previous = std::log(std::log(3.0)), total = 0;
  const double keep[2] = {0.0, 0.0};
  int steps = 0;
  for (bool done = false; !done; ++steps) {
    const envs::StepResult r = env.step(keep, obs.data());
    const double now = std::log(env.last_train_loss());
    EXPECT_NEAR(r.reward, -(now - previous), 1e-12);
    EXPECT_FALSE(r.truncated);
    previous = now;
    total += r.reward;
    done = r.terminated;
  }
  EXPECT_EQ(steps, 6);
  EXPECT_EQ(env.minibatches_done(), 60);
  EXPECT_DOUBLE_EQ(obs[8], 1.0);
  EXPECT_NEAR(env.episode_return(), total, 1e-12);
  EXPECT_NEAR(total, std::log(std::log(3.0) / env.last_train_loss()), 1e-9);
  EXPECT_GT(total, 0.0);  // SGD at 0.05 learns the teacher
  EXPECT_THROW(env.step(keep, obs.data()), std::logic_error);
}

TEST(ControlEnv, SparseRewardIsMinusTheFinalValidationLoss) {
  ControlOptions o = tiny_options();
  o.reward = RewardKind::kSparse;
  o.control_interval = 25;  // 25, 25, then the budget's last 10
  ControlEnv env({tiny_instance()}, o);
  EXPECT_EQ(env.spec().max_episode_steps, 3);
  std::vector<double> obs(10);
  env.reset_instance(0, 2, obs.data());
  const double keep[2] = {0.0, 0.0};
  EXPECT_DOUBLE_EQ(env.step(keep, obs.data()).reward, 0.0);
  EXPECT_DOUBLE_EQ(env.step(keep, obs.data()).reward, 0.0);
  EXPECT_EQ(env.minibatches_done(), 50);
  const envs::StepResult last = env.step(keep, obs.data());
  EXPECT_TRUE(last.terminated);
  EXPECT_EQ(env.minibatches_done(), 60);
  EXPECT_DOUBLE_EQ(last.reward, -env.task().evaluate_split("val").loss);
  EXPECT_DOUBLE_EQ(last.reward, -env.last_val_loss());
}

TEST(ControlEnv, DenseValRewardIsMinusTheChangeOfLogValidationLossAtEachPass) {
  ControlOptions o = tiny_options();
  o.reward = RewardKind::kDenseVal;
  o.val_interval = 2;  // 6 steps: passes after steps 2, 4 and 6 (the end)
  ControlEnv env({tiny_instance()}, o);
  std::vector<double> obs(10);
  env.reset_instance(0, 2, obs.data());
  const double start = env.last_val_loss();
  double previous = start, total = 0;
  const double keep[2] = {0.0, 0.0};
  for (int step = 1; !env.done(); ++step) {
    const envs::StepResult r = env.step(keep, obs.data());
    total += r.reward;
    if (step % 2 == 0) {
      EXPECT_NEAR(r.reward, -(std::log(env.last_val_loss()) - std::log(previous)), 1e-12) << step;
      EXPECT_NE(r.reward, 0.0) << step;
      previous = env.last_val_loss();
    } else {
      EXPECT_EQ(r.reward, 0.0) << step;
    }
  }
  EXPECT_DOUBLE_EQ(env.last_val_loss(), env.task().evaluate_split("val").loss);
  EXPECT_NEAR(total, std::log(start / env.last_val_loss()), 1e-12);
  EXPECT_NEAR(env.episode_return(), total, 1e-12);
  EXPECT_GT(total, 0.0);  // SGD at 0.05 learns the teacher
}

TEST(ControlEnv, ANonFiniteLossEndsTheEpisodeAsCrashedWithThePenalty) {
  ControlOptions o = tiny_options();
  o.action_mode = ActionMode::kAbsolute;
  o.lr_max = 1e12;
  o.crash_penalty = 7.5;
  ControlEnv env({tiny_instance()}, o);
  std::vector<double> obs(10);
  env.reset_instance(0, 4, obs.data());
  const double huge[2] = {12.0, -3.0};
  envs::StepResult r;
  int steps = 0;
  while (!env.done()) {
    r = env.step(huge, obs.data());
    ++steps;
  }
  EXPECT_TRUE(env.crashed());
  EXPECT_TRUE(env.task().diverged());
  EXPECT_TRUE(r.terminated);
  EXPECT_DOUBLE_EQ(r.reward, -7.5);
  EXPECT_LT(env.minibatches_done(), 60);
  EXPECT_LE(steps, 2);
  EXPECT_DOUBLE_EQ(obs[9], 1.0);
  expect_bounded(obs);
  const double keep[2] = {0.0, 0.0};
  EXPECT_THROW(env.step(keep, obs.data()), std::logic_error);
  // A fresh episode starts clean.
  env.reset_instance(0, 4, obs.data());
  EXPECT_FALSE(env.crashed());
  EXPECT_DOUBLE_EQ(obs[9], 0.0);
}

TEST(ControlEnv, ASeedDeterminesTheEpisode) {
  std::vector<Instance> instances = {tiny_instance(), tiny_instance(optim::OptimizerKind::kAdamW)};
  instances[1].name = "tiny_adamw";
  const auto run = [&](std::uint64_t seed) {
    ControlEnv env(instances, tiny_options());
    std::vector<double> obs(10), trace;
    env.reset(seed, obs.data());
    trace.push_back(static_cast<double>(env.run_seed() % 1000003));
    trace.push_back(env.instance().name == "tiny" ? 0.0 : 1.0);
    trace.insert(trace.end(), obs.begin(), obs.end());
    for (int i = 0; !env.done(); ++i) {
      const double a[2] = {std::sin(i), std::cos(i)};
      trace.push_back(env.step(a, obs.data()).reward);
      trace.insert(trace.end(), obs.begin(), obs.end());
    }
    return trace;
  };
  EXPECT_EQ(run(11), run(11));
  EXPECT_NE(run(11), run(12));
}

TEST(ControlEnv, RefusesBadOptions) {
  ControlOptions o;
  o.control_interval = 0;
  EXPECT_THROW(ControlEnv({tiny_instance()}, o), std::invalid_argument);
  o = ControlOptions{};
  o.lr_min = 0;
  EXPECT_THROW(ControlEnv({tiny_instance()}, o), std::invalid_argument);
  EXPECT_THROW(ControlEnv({}, ControlOptions{}), std::invalid_argument);
}

}  // namespace
}  // namespace graybox::dac
