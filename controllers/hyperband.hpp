// Hyperband's bracket arithmetic (Li et al. 2018): with maximum budget R, minimum r_min and
// reduction factor eta, s_max = floor(log_eta(R / r_min)); bracket s (s_max down to 0) starts
// n = ceil((s_max + 1) / (s + 1) * eta^s) configurations at budget R * eta^-s, and each
// successive-halving rung keeps the best 1/eta: rung i has floor(n * eta^-i) configurations
// at budget R * eta^(i - s).
#pragma once

#include <cstdint>
#include <vector>

namespace graybox::controllers {

struct Rung {
  std::int64_t num_configs = 0;
  std::int64_t budget = 0;
};
using Bracket = std::vector<Rung>;

int hyperband_s_max(std::int64_t max_budget, std::int64_t min_budget, int eta);
Bracket hyperband_bracket(int s, int s_max, std::int64_t max_budget, int eta);
// All brackets, s = s_max first.
std::vector<Bracket> hyperband_brackets(std::int64_t max_budget, std::int64_t min_budget, int eta);

}  // namespace graybox::controllers
