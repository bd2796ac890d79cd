// Gaussian-process regression with the covariance function as a parameter, shared by GP-BO
// (a Matérn-5/2 ARD kernel, below) and PB2 (a time-varying kernel, pbt/pb2.hpp).
//
// A Kernel holds its hyperparameters, the observation noise included, as a vector theta in the
// coordinates the fit searches (logs, logits). The GP conditions on data: K = k(X, X) + noise I,
// Cholesky, alpha = K^-1 y; predictions are the posterior mean and variance; the fit maximises
// the log marginal likelihood -y'K^-1 y / 2 - log|K| / 2 - n log(2 pi) / 2 by Nelder-Mead, the
// first run from the kernel's theta and the others from random thetas. Optionally the targets
// are standardised (mean 0, sample variance 1) and predictions returned in their units.
#pragma once

#include <Eigen/Dense>
#include <memory>
#include <vector>

#include "core/rng.hpp"

namespace graybox::controllers {

class Kernel {
 public:
  explicit Kernel(std::vector<double> theta) : theta_(std::move(theta)) {}
  virtual ~Kernel() = default;
  virtual std::unique_ptr<Kernel> clone() const = 0;

  virtual double operator()(const Eigen::VectorXd& a, const Eigen::VectorXd& b) const = 0;
  virtual double prior_variance() const = 0;  // k(x, x)
  virtual double noise_variance() const = 0;  // added to the diagonal
  // False for a theta outside the kernel's bounds (the fit scores it as impossible).
  virtual bool admissible(const std::vector<double>& theta) const = 0;
  // A random starting theta for a restart of the fit.
  virtual std::vector<double> random_theta(core::Rng& rng) const = 0;

  const std::vector<double>& theta() const { return theta_; }
  void set_theta(std::vector<double> theta) {
    theta_ = std::move(theta);
    update();
  }

 protected:
  virtual void update() {}  // theta changed: refresh derived values
  std::vector<double> theta_;
};

// k(x, x') = s2 (1 + sqrt5 r + 5 r^2 / 3) exp(-sqrt5 r), r^2 = sum_i (x_i - x'_i)^2 / l_i^2,
// theta = [log l_1 .. log l_d, log s2, log noise] with l in [0.01, 20], s2 in [0.01, 100],
// noise in [1e-6, 1] (plus 1e-9 jitter). Default: l = 0.3, s2 = 1, noise = 1e-3.
class MaternKernel final : public Kernel {
 public:
  explicit MaternKernel(std::size_t dims);
  MaternKernel(std::vector<double> log_lengthscales, double log_signal_variance, double log_noise_variance);
  std::unique_ptr<Kernel> clone() const override { return std::make_unique<MaternKernel>(*this); }
  double operator()(const Eigen::VectorXd& a, const Eigen::VectorXd& b) const override;
  double prior_variance() const override;
  double noise_variance() const override;
  bool admissible(const std::vector<double>& theta) const override;
  std::vector<double> random_theta(core::Rng& rng) const override;

 private:
  std::size_t dims_;
};

struct GpFitOptions {
  int runs = 3;        // Nelder-Mead runs: the first from the kernel's theta, then random thetas
  double step = 0.5;   // the initial simplex's size
  int max_evals = 200; // likelihood evaluations per run
};

class GaussianProcess {
 public:
  GaussianProcess(const Kernel& kernel, bool standardize);
  GaussianProcess(const GaussianProcess& other);
  GaussianProcess(GaussianProcess&& other) = default;
  GaussianProcess& operator=(const GaussianProcess& other);
  GaussianProcess& operator=(GaussianProcess&& other) = default;

  // Fits the kernel's theta, then conditions on the data.
  void fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, core::Rng& rng, const GpFitOptions& options);
  // Conditions on the data with the kernel's current theta.
  void condition(const Eigen::MatrixXd& x, const Eigen::VectorXd& y);
  // Posterior mean and variance at x, in the units of y.
  void predict(const Eigen::VectorXd& x, double& mean, double& variance) const;
  // Log marginal likelihood of the (standardised) conditioned data under theta; -inf if theta is
  // not admissible or K is not positive definite.
  double log_marginal_likelihood(const std::vector<double>& theta) const;

  const Kernel& kernel() const { return *kernel_; }

 private:
  void set_data(const Eigen::MatrixXd& x, const Eigen::VectorXd& y);
  Eigen::MatrixXd gram(const Kernel& kernel) const;

  std::unique_ptr<Kernel> kernel_;
  bool standardize_;
  Eigen::MatrixXd x_;
  Eigen::VectorXd y_;  // standardised when standardize_
  double y_mean_ = 0.0, y_std_ = 1.0;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::VectorXd alpha_;
};

// Expected improvement below `best` for a Gaussian N(mean, variance).
double expected_improvement(double mean, double variance, double best);

}  // namespace graybox::controllers
