// The baselines a learned controller is measured against, and their tuning. Each runs an
// instance with a learning-rate multiplier schedule over its budget T (t counts minibatches;
// the weight decay stays at its base value):
//   constant       1
//   step           0.1 at 0.5 T, 0.01 at 0.75 T (multistep, gamma 0.1)
//   cosine         (1 + cos(pi t / T)) / 2, to 0 at T
//   sgdr           cosine restarts (Loshchilov & Hutter): periods T/7, 2T/7, 4T/7 (t_mult 2),
//                  so the third ends at T
//   warmup_cosine  linear from 0 to 1 over 0.05 T, then cosine to 0 at T
//   random         constant, with a uniformly random multiplicative action every control step
// A baseline's base lr and wd are the instance's initial values times factors, tuned per
// optimizer (SGD, AdamW) on the training instances: a searcher (controllers/, TPE by default)
// proposes log10 factors and sees the mean final validation loss over those instances.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "controllers/searcher.hpp"
#include "dac/instance.hpp"
#include "optim/schedule.hpp"

namespace graybox::dac {

const std::vector<std::string>& baseline_names();
// The baselines that are a schedule (all but random): what dac.base_schedule may name.
const std::vector<std::string>& base_schedule_names();
// Throws std::invalid_argument for a name not in baseline_names().
optim::ScheduleSpec baseline_schedule(const std::string& name, std::int64_t budget);

// The tuned factors of one baseline for one optimizer.
struct TunedFactors {
  double lr_factor = 1.0, wd_factor = 1.0;
  double loss = 0.0;          // the objective at the best point
  int trials = 0;
  std::int64_t minibatches = 0;
};

struct TuneBudget {
  int trials = 12;
  controllers::SearcherOptions searcher{"tpe", 5, 4};
  double lr_factor_low = 0.03, lr_factor_high = 30.0;
  double wd_factor_low = 0.01, wd_factor_high = 100.0;
};

// One proposal of a tuning and what it cost; `loss` is the searcher's view of it (a non-finite
// objective sanitised to a large finite value, so that a file can hold it).
struct FactorTrial {
  double lr_factor = 1.0, wd_factor = 1.0;
  double loss = 0.0;
  std::int64_t minibatches = 0;
};

// Minimises objective(lr_factor, wd_factor) with `budget.trials` proposals of the searcher
// (seeded); the objective returns (loss, minibatches it trained).
using FactorObjective = std::function<std::pair<double, std::int64_t>(double lr_factor, double wd_factor)>;
TunedFactors tune_factors(const TuneBudget& budget, std::uint64_t seed, const FactorObjective& objective);

// The same tuning continued from the trials an interrupted one recorded: the searcher proposes
// again from the same seed, each of the first done.size() proposals is answered with the
// recorded loss instead of calling the objective (so the result equals an uninterrupted
// tuning's), and `on_trial` sees every trial the objective ran, as it finishes. Throws
// std::runtime_error when a proposal differs from the recorded one (the trials came from
// another searcher, budget or seed).
using TrialCallback = std::function<void(const FactorTrial&)>;
TunedFactors tune_factors(const TuneBudget& budget, std::uint64_t seed, const FactorObjective& objective,
                          const std::vector<FactorTrial>& done, const TrialCallback& on_trial);

}  // namespace graybox::dac
