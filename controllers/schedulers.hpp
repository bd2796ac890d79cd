// The schedulers behind `tune.algorithm`:
//   fifo       every trial trains to the maximum budget (random, grid, gp, tpe)
//   hyperband  Hyperband's brackets of successive halving (hyperband; bohb with its model;
//              sha = the most aggressive bracket only)
//   asha       asynchronous successive halving: a trial is promoted from a rung when its loss
//              is in the best 1/rf of the losses recorded at that rung so far
#pragma once

#include <memory>

#include "controllers/controller.hpp"

namespace graybox::controllers {

std::unique_ptr<Controller> make_fifo_controller(const core::SearchSpace& space, std::unique_ptr<Searcher> searcher,
                                                 std::uint64_t seed, int num_trials, std::int64_t max_budget);
std::unique_ptr<Controller> make_hyperband_controller(const core::SearchSpace& space,
                                                      std::unique_ptr<Searcher> searcher, std::uint64_t seed,
                                                      std::int64_t max_budget, std::int64_t min_budget, int eta,
                                                      int iterations, bool only_first_bracket);
std::unique_ptr<Controller> make_asha_controller(const core::SearchSpace& space, std::unique_ptr<Searcher> searcher,
                                                 std::uint64_t seed, int num_trials, std::int64_t max_budget,
                                                 std::int64_t grace, int reduction_factor);

}  // namespace graybox::controllers
