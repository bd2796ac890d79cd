#include "controllers/controller.hpp"

#include <cmath>
#include <stdexcept>

#include "controllers/schedulers.hpp"

namespace graybox::controllers {

Controller::Controller(const core::SearchSpace& space, std::unique_ptr<Searcher> searcher, std::uint64_t seed)
    : space_(space), searcher_(std::move(searcher)), rng_(core::derive_seed(seed, core::Stream::kController)) {}

Job Controller::new_trial(std::int64_t budget) {
  Job job;
  job.trial = next_trial_++;
  job.config = searcher_->propose(rng_, budget);
  job.budget = budget;
  searcher_->add_pending(job.config, budget);
  last_decision_ = "start trial " + std::to_string(job.trial) + " at budget " + std::to_string(budget) + ": " +
                   space_.to_json(job.config);
  return job;
}

void Controller::record(const Job& job, double loss) { searcher_->observe({job.config, job.budget, loss}); }

nlohmann::json Controller::state() const {
  return {{"name", name()}, {"rng", rng_.state()}, {"next_trial", next_trial_}, {"searcher", searcher_->state()}};
}

void Controller::load_state(const nlohmann::json& state) {
  if (state.at("name").get<std::string>() != name()) {
    throw std::runtime_error("the saved controller is '" + state.at("name").get<std::string>() + "', not '" + name() + "'");
  }
  rng_.set_state(state.at("rng").get<std::string>());
  next_trial_ = state.at("next_trial").get<int>();
  searcher_->load_state(state.at("searcher"));
}

std::unique_ptr<Controller> make_controller(const ControllerOptions& o, const core::SearchSpace& space,
                                            std::uint64_t seed) {
  SearcherOptions so;
  so.grid_points = o.grid_points;
  so.initial_points = o.initial_points;
  so.tpe_multivariate = o.tpe_multivariate;
  const std::string& a = o.algorithm;
  if (a == "random" || a == "grid" || a == "gp" || a == "tpe") {
    so.kind = a;
    auto searcher = make_searcher(so, space);
    const int trials = a == "grid" ? static_cast<int>(searcher->capacity()) : o.num_trials;
    return make_fifo_controller(space, std::move(searcher), seed, trials, o.max_budget);
  }
  so.kind = o.searcher.empty() ? "random" : o.searcher;
  if (a == "bohb") so.kind = "bohb";
  if (a == "hyperband" || a == "bohb" || a == "sha") {
    return make_hyperband_controller(space, make_searcher(so, space), seed, o.max_budget, o.min_budget, o.eta,
                                     o.iterations, a == "sha");
  }
  if (a == "asha") {
    return make_asha_controller(space, make_searcher(so, space), seed, o.num_trials, o.max_budget, o.min_budget,
                                o.reduction_factor);
  }
  throw std::invalid_argument("unknown algorithm '" + a + "'");
}

}  // namespace graybox::controllers
