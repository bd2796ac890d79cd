// The baselines' schedules equal their closed forms; the factor tuning finds the minimum of a
// known objective.
#include "dac/baselines.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace graybox::dac {
namespace {

constexpr double kPi = 3.14159265358979323846;

TEST(Baselines, SchedulesEqualTheirClosedForms) {
  const std::int64_t T = 700;
  const auto value = [&](const std::string& name, double t) { return optim::make_schedule(baseline_schedule(name, T))->value(t); };
  for (const double t : {0.0, 123.0, 699.0}) {
    EXPECT_DOUBLE_EQ(value("constant", t), 1.0);
    EXPECT_DOUBLE_EQ(value("random", t), 1.0);
    EXPECT_NEAR(value("cosine", t), 0.5 * (1 + std::cos(kPi * t / T)), 1e-12) << t;
  }
  EXPECT_DOUBLE_EQ(value("step", 349), 1.0);
  EXPECT_NEAR(value("step", 350), 0.1, 1e-12);
  EXPECT_NEAR(value("step", 524), 0.1, 1e-12);
  EXPECT_NEAR(value("step", 525), 0.01, 1e-12);
  // SGDR: periods 100, 200, 400; restarts at 100 and 300.
  for (const double t : {0.0, 50.0, 99.0, 100.0, 200.0, 300.0, 500.0, 699.0}) {
    const double start = t < 100 ? 0 : (t < 300 ? 100 : 300), period = t < 100 ? 100 : (t < 300 ? 200 : 400);
    EXPECT_NEAR(value("sgdr", t), 0.5 * (1 + std::cos(kPi * (t - start) / period)), 1e-12) << t;
  }
  // Warm-up 35 steps from 0, then cosine over the remaining 665.
  EXPECT_NEAR(value("warmup_cosine", 0), 0.0, 1e-12);
  EXPECT_NEAR(value("warmup_cosine", 17.5), 0.5, 1e-12);
  EXPECT_NEAR(value("warmup_cosine", 35), 1.0, 1e-12);
  EXPECT_NEAR(value("warmup_cosine", 35 + 332.5), 0.5, 1e-12);
  EXPECT_NEAR(value("warmup_cosine", 700), 0.0, 1e-12);
  EXPECT_THROW(baseline_schedule("linear", T), std::invalid_argument);
}

TEST(Baselines, TuningFindsTheMinimumOfAKnownObjective) {
  // Minimum at lr x3, wd x0.1; the objective counts 10 minibatches per call.
  const FactorObjective objective = [](double lr, double wd) {
    const double a = std::log10(lr) - std::log10(3.0), b = std::log10(wd) + 1.0;
    return std::make_pair(a * a + b * b, std::int64_t{10});
  };
  TuneBudget budget;
  budget.trials = 40;
  const TunedFactors best = tune_factors(budget, 3, objective);
  EXPECT_EQ(best.trials, 40);
  EXPECT_EQ(best.minibatches, 400);
  EXPECT_NEAR(std::log10(best.lr_factor), std::log10(3.0), 0.3);
  EXPECT_NEAR(std::log10(best.wd_factor), -1.0, 0.3);
  EXPECT_DOUBLE_EQ(best.loss, objective(best.lr_factor, best.wd_factor).first);
  // Same seed, same result.
  EXPECT_EQ(tune_factors(budget, 3, objective).lr_factor, best.lr_factor);
}

}  // namespace
}  // namespace graybox::dac
