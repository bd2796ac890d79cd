// Synthetic objectives as trainables, so that controllers are tested in seconds:
//   branin      x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887 at (-pi, 12.275),
//               (pi, 2.275), (9.42478, 2.475)
//   hartmann6   x1..x6 in [0, 1]; minimum -3.32237
// and multi-fidelity versions (branin_mf, hartmann6_mf) whose value at budget b of B is
//   f(x) + (1 - b/B) * (bias * h(x) + noise * eps),   eps ~ N(0, 1) drawn per (trial, b)
// with h(x) a smooth distortion that moves the optimum (Branin: (x1 + 5) / 15;
// Hartmann-6: sum_i (x_i - 0.5)^2) and bias/noise (Branin 10 and 5, Hartmann-6 1 and 0.5),
// so cheap budgets are informative but biased and noisy, as a short training run is.
// branin_timed is branin whose every step takes 20 ms of wall time, standing in for a trainable
// that costs time (tests of workers, leases and kills).
// A budget unit is one step; the objective is minimised.
#pragma once

#include <memory>
#include <string>

#include "core/trial_factory.hpp"

namespace graybox::tasks {

double branin(double x1, double x2);
double hartmann6(const double* x);

// The factory for task: branin | hartmann6 | branin_mf | hartmann6_mf | branin_timed.
std::unique_ptr<core::TrialFactory> make_synthetic_factory(const std::string& task);
bool is_synthetic_task(const std::string& task);

}  // namespace graybox::tasks
