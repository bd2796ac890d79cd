#include "dac/baselines.hpp"

#include <cstdio>
#include <stdexcept>

#include "core/search_space.hpp"

namespace graybox::dac {

const std::vector<std::string>& baseline_names() {
  static const std::vector<std::string> names = {"constant", "step", "cosine", "sgdr", "warmup_cosine", "random"};
  return names;
}

const std::vector<std::string>& base_schedule_names() {
  static const std::vector<std::string> names = {"constant", "step", "cosine", "sgdr", "warmup_cosine"};
  return names;
}

optim::ScheduleSpec baseline_schedule(const std::string& name, std::int64_t budget) {
  const double T = static_cast<double>(budget);
  optim::ScheduleSpec s;
  if (name == "constant" || name == "random") {
    s.type = "constant";
  } else if (name == "step") {
    s.type = "multistep";
    s.milestones = {0.5 * T, 0.75 * T};
    s.gamma = 0.1;
  } else if (name == "cosine") {
    s.type = "cosine";
    s.duration = T;
  } else if (name == "sgdr") {
    s.type = "sgdr";
    s.t0 = T / 7.0;
    s.t_mult = 2.0;
  } else if (name == "warmup_cosine") {
    s.type = "cosine";
    s.warmup = 0.05 * T;
    s.warmup_start = 0.0;
    s.duration = T - s.warmup;
  } else {
    throw std::invalid_argument("no baseline '" + name + "'");
  }
  return s;
}

TunedFactors tune_factors(const TuneBudget& budget, std::uint64_t seed, const FactorObjective& objective) {
  return tune_factors(budget, seed, objective, {}, nullptr);
}

TunedFactors tune_factors(const TuneBudget& budget, std::uint64_t seed, const FactorObjective& objective,
                          const std::vector<FactorTrial>& done, const TrialCallback& on_trial) {
  core::Dimension lr, wd;
  lr.name = "lr_factor";
  lr.low = budget.lr_factor_low;
  lr.high = budget.lr_factor_high;
  lr.log = true;
  wd.name = "wd_factor";
  wd.low = budget.wd_factor_low;
  wd.high = budget.wd_factor_high;
  wd.log = true;
  const core::SearchSpace space({lr, wd});
  auto searcher = controllers::make_searcher(budget.searcher, space);
  core::Rng rng(core::derive_seed(seed, core::Stream::kController));
  TunedFactors best;
  best.loss = 1e300;
  for (int k = 0; k < budget.trials; ++k) {
    const core::Configuration config = searcher->propose(rng, 1);
    FactorTrial trial;
    if (static_cast<std::size_t>(k) < done.size()) {
      trial = done[static_cast<std::size_t>(k)];
      if (trial.lr_factor != config.values[0] || trial.wd_factor != config.values[1]) {
        char what[256];
        std::snprintf(what, sizeof what, "trial %d proposes lr x%.17g, wd x%.17g where x%.17g, x%.17g was recorded", k + 1,
                      config.values[0], config.values[1], trial.lr_factor, trial.wd_factor);
        throw std::runtime_error(what);
      }
    } else {
      const auto [loss, minibatches] = objective(config.values[0], config.values[1]);
      trial = {config.values[0], config.values[1], controllers::sanitize_loss(loss), minibatches};
      if (on_trial) on_trial(trial);
    }
    best.minibatches += trial.minibatches;
    ++best.trials;
    searcher->observe({config, 1, trial.loss});
    if (trial.loss < best.loss) {
      best.loss = trial.loss;
      best.lr_factor = trial.lr_factor;
      best.wd_factor = trial.wd_factor;
    }
  }
  return best;
}

}  // namespace graybox::dac
