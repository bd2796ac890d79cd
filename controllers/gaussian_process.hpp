// A Gaussian process with a Matérn-5/2 ARD kernel, for Bayesian optimisation on the unit cube:
//   k(x, x') = s2 * (1 + sqrt(5) r + 5 r^2 / 3) * exp(-sqrt(5) r),  r^2 = sum_i (x_i - x'_i)^2 / l_i^2
// plus noise variance on the diagonal. Targets are standardised. The kernel's parameters are
// fitted by maximising the log marginal likelihood (Nelder-Mead in log space, with restarts).
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "core/rng.hpp"

namespace graybox::controllers {

class GaussianProcess {
 public:
  struct Params {
    std::vector<double> log_lengthscales;
    double log_signal_variance = 0.0;
    double log_noise_variance = -6.0;
  };

  // Fits the kernel's parameters, then conditions on the data.
  void fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, core::Rng& rng, int restarts = 3);
  // Conditions on the data with given parameters (no fitting).
  void condition(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const Params& params);
  // Posterior mean and variance at x, in the units of y.
  void predict(const Eigen::VectorXd& x, double& mean, double& variance) const;
  // Log marginal likelihood of the standardised data under params (-inf if K is not SPD).
  double log_marginal_likelihood(const Params& params) const;

  const Params& params() const { return params_; }
  double kernel(const Eigen::VectorXd& a, const Eigen::VectorXd& b, const Params& p) const;

 private:
  Eigen::MatrixXd x_;
  Eigen::VectorXd y_;  // standardised
  double y_mean_ = 0.0, y_std_ = 1.0;
  Params params_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::VectorXd alpha_;
};

// Expected improvement below `best` for a Gaussian N(mean, variance).
double expected_improvement(double mean, double variance, double best);

}  // namespace graybox::controllers
