// PBT's explore and quantile steps (specs/algorithms.md, "Population-based training"), as pure
// functions of a seeded stream so that a synchronous population is deterministic.
#pragma once

#include <vector>

#include "core/rng.hpp"
#include "core/search_space.hpp"

namespace graybox::pbt {

struct ExploreOptions {
  double resample_probability = 0.25;
  double perturb_up = 1.2, perturb_down = 0.8;
};

// One perturbed copy of `config`, per dimension:
//   - with probability resample_probability: a fresh draw from the dimension's domain;
//   - float: multiplied by up or down (one fair coin per dimension); a log-scaled value moves in
//     log space (log v + log f, so it never reaches 0 or changes sign); clipped to the bounds;
//   - int: the same, then rounded; if that leaves it unchanged it moves one step in the factor's
//     direction (the other way at a bound), so x1.2 does change 1..4;
//   - categorical: resampled uniformly; an ordered numeric list (choices ascending) shifts one
//     position left or right instead, clamped at the ends;
//   - fixed and inactive dimensions stay as they are (a dimension made active by its parent's
//     new value gets a fresh draw).
core::Configuration explore(const core::SearchSpace& space, const core::Configuration& config,
                            const ExploreOptions& options, core::Rng& rng);

// True if a categorical dimension's choices are numbers in ascending order.
bool ordered_choices(const core::Dimension& dim);

// A loser copies a donor.
struct Exploit {
  int member = 0;
  int donor = 0;
};

// Quantile selection over `losses` (lower is better; NaN: no score this round, takes no part):
// with N scored members, n = min(ceil(N q), floor(N / 2)); each of the bottom n (in member
// order) copies a donor drawn uniformly from the top n. Ties keep member order.
std::vector<Exploit> select_exploits(const std::vector<double>& losses, double quantile_fraction, core::Rng& rng);

}  // namespace graybox::pbt
