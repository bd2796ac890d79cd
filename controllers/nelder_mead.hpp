// Nelder-Mead simplex minimisation: derivative-free, enough for the few hyperparameters of a
// GP's kernel and for polishing an acquisition function's maximum.
#pragma once

#include <algorithm>
#include <functional>
#include <numeric>
#include <vector>

namespace graybox::controllers {

inline std::vector<double> nelder_mead(const std::function<double(const std::vector<double>&)>& f,
                                       std::vector<double> x0, double step, int max_evals,
                                       double* best_value = nullptr) {
  const std::size_t n = x0.size();
  std::vector<std::vector<double>> simplex(n + 1, x0);
  for (std::size_t i = 0; i < n; ++i) simplex[i + 1][i] += step;
  std::vector<double> values(n + 1);
  int evals = 0;
  const auto eval = [&](const std::vector<double>& x) {
    ++evals;
    return f(x);
  };
  for (std::size_t i = 0; i <= n; ++i) values[i] = eval(simplex[i]);
  std::vector<std::size_t> order(n + 1);
  while (evals < max_evals) {
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
    const std::size_t best = order[0], worst = order[n], second = order[n - 1];
    if (std::abs(values[worst] - values[best]) < 1e-10) break;
    std::vector<double> centroid(n, 0.0);
    for (std::size_t k = 0; k < n; ++k) {
      for (std::size_t i = 0; i < n; ++i) centroid[i] += simplex[order[k]][i] / static_cast<double>(n);
    }
    const auto along = [&](double t) {
      std::vector<double> x(n);
      for (std::size_t i = 0; i < n; ++i) x[i] = centroid[i] + t * (simplex[worst][i] - centroid[i]);
      return x;
    };
    const std::vector<double> reflected = along(-1.0);
    const double fr = eval(reflected);
    if (fr < values[best]) {
      const std::vector<double> expanded = along(-2.0);
      const double fe = eval(expanded);
      if (fe < fr) {
        simplex[worst] = expanded, values[worst] = fe;
      } else {
        simplex[worst] = reflected, values[worst] = fr;
      }
    } else if (fr < values[second]) {
      simplex[worst] = reflected, values[worst] = fr;
    } else {
      const std::vector<double> contracted = along(fr < values[worst] ? -0.5 : 0.5);
      const double fc = eval(contracted);
      if (fc < std::min(fr, values[worst])) {
        simplex[worst] = contracted, values[worst] = fc;
      } else {
        for (std::size_t k = 1; k <= n; ++k) {  // shrink towards the best
          auto& x = simplex[order[k]];
          for (std::size_t i = 0; i < n; ++i) x[i] = simplex[best][i] + 0.5 * (x[i] - simplex[best][i]);
          values[order[k]] = eval(x);
        }
      }
    }
  }
  const std::size_t best = static_cast<std::size_t>(std::min_element(values.begin(), values.end()) - values.begin());
  if (best_value) *best_value = values[best];
  return simplex[best];
}

}  // namespace graybox::controllers
