// The baselines' schedules equal their closed forms; the factor tuning finds the minimum of a
// known objective, and continues from recorded trials to the same result.
#include "dac/baselines.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

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

TEST(Baselines, ATuningContinuedFromItsRecordedTrialsEndsAsAnUninterruptedOne) {
  int calls = 0;
  const FactorObjective objective = [&calls](double lr, double wd) {
    ++calls;
    const double a = std::log10(lr) - 0.5, b = std::log10(wd) + 1.0;
    return std::make_pair(a * a + b * b, std::int64_t{7});
  };
  TuneBudget budget;
  budget.trials = 12;
  std::vector<FactorTrial> recorded;
  const TunedFactors straight =
      tune_factors(budget, 5, objective, {}, [&recorded](const FactorTrial& t) { recorded.push_back(t); });
  ASSERT_EQ(recorded.size(), 12u);
  EXPECT_EQ(calls, 12);

  // Stopped after 5 trials: the other 7 run, each reported, and the result is the same.
  std::vector<FactorTrial> rest;
  calls = 0;
  const TunedFactors continued = tune_factors(budget, 5, objective, {recorded.begin(), recorded.begin() + 5},
                                              [&rest](const FactorTrial& t) { rest.push_back(t); });
  EXPECT_EQ(calls, 7);
  ASSERT_EQ(rest.size(), 7u);
  EXPECT_EQ(rest.front().lr_factor, recorded[5].lr_factor);
  EXPECT_EQ(continued.lr_factor, straight.lr_factor);
  EXPECT_EQ(continued.wd_factor, straight.wd_factor);
  EXPECT_EQ(continued.loss, straight.loss);
  EXPECT_EQ(continued.trials, 12);
  EXPECT_EQ(continued.minibatches, straight.minibatches);

  // Recorded trials that another seed's searcher would not propose are refused.
  EXPECT_THROW(tune_factors(budget, 6, objective, {recorded.begin(), recorded.begin() + 5}, nullptr), std::runtime_error);
  // A non-finite objective is recorded as a finite loss (a JSON file can hold it).
  const FactorObjective broken = [](double, double) { return std::make_pair(INFINITY, std::int64_t{1}); };
  budget.trials = 2;
  std::vector<FactorTrial> bad;
  tune_factors(budget, 5, broken, {}, [&bad](const FactorTrial& t) { bad.push_back(t); });
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_TRUE(std::isfinite(bad[0].loss));
}

}  // namespace
}  // namespace graybox::dac
