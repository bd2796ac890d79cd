#include "controllers/hyperband.hpp"

#include <cmath>

namespace graybox::controllers {
namespace {

std::int64_t ipow(int base, int exp) {
  std::int64_t r = 1;
  for (int i = 0; i < exp; ++i) r *= base;
  return r;
}

}  // namespace

int hyperband_s_max(std::int64_t max_budget, std::int64_t min_budget, int eta) {
  int s = 0;
  // The largest s with min_budget * eta^s <= max_budget (integer arithmetic, no log rounding).
  while (min_budget * ipow(eta, s + 1) <= max_budget) ++s;
  return s;
}

Bracket hyperband_bracket(int s, int s_max, std::int64_t max_budget, int eta) {
  const std::int64_t eta_s = ipow(eta, s);
  const std::int64_t n = ((s_max + 1) * eta_s + (s + 1) - 1) / (s + 1);  // ceil((s_max+1)/(s+1) * eta^s)
  Bracket bracket;
  for (int i = 0; i <= s; ++i) {
    Rung rung;
    rung.num_configs = n / ipow(eta, i);
    // R * eta^(i - s), at least 1 unit.
    rung.budget = std::max<std::int64_t>(1, max_budget * ipow(eta, i) / eta_s);
    bracket.push_back(rung);
  }
  return bracket;
}

std::vector<Bracket> hyperband_brackets(std::int64_t max_budget, std::int64_t min_budget, int eta) {
  const int s_max = hyperband_s_max(max_budget, min_budget, eta);
  std::vector<Bracket> out;
  for (int s = s_max; s >= 0; --s) out.push_back(hyperband_bracket(s, s_max, max_budget, eta));
  return out;
}

}  // namespace graybox::controllers
