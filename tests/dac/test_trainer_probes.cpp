// The trainer probes the control env's features read: with plain SGD (no momentum, no weight
// decay) one step moves the parameters by exactly lr·g, so ‖Δθ‖ from flat_parameters must be
// lr·gradient_norm().
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "dac/instance.hpp"
#include "tests/dac/tiny.hpp"

namespace graybox::dac {
namespace {

TEST(TrainerProbes, OneSgdStepMovesTheParametersByLrTimesTheGradientNorm) {
  Instance in = testing::tiny_instance();
  in.momentum = 0.0;
  in.weight_decay = 0.0;
  in.lr = 0.1;
  const optim::Split data = tasks::load_supervised_data(in.data, in.seed);
  tasks::SupervisedTask task(task_config(in, 1, (data.train.size() + in.batch_size - 1) / in.batch_size), data);
  optim::SupervisedTrainer& trainer = task.trainer();
  EXPECT_DOUBLE_EQ(trainer.gradient_norm(), 0.0);  // no gradient yet
  std::vector<float> before, after;
  trainer.flat_parameters(before);
  ASSERT_EQ(static_cast<std::int64_t>(before.size()), trainer.parameter_count());
  core::NullSink sink;
  task.train(1, sink);
  trainer.flat_parameters(after);
  double moved = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    const double d = static_cast<double>(after[i]) - static_cast<double>(before[i]);
    moved += d * d;
  }
  const double g = trainer.gradient_norm();
  EXPECT_GT(g, 0.0);
  EXPECT_NEAR(std::sqrt(moved), 0.1 * g, 1e-5 * g);
}

}  // namespace
}  // namespace graybox::dac
