#include "controllers/gaussian_process.hpp"

#include <cmath>
#include <limits>

#include "controllers/nelder_mead.hpp"
#include "core/normal.hpp"

namespace graybox::controllers {
namespace {

constexpr double kLogLengthMin = -4.6, kLogLengthMax = 3.0;  // lengthscales in [0.01, 20]
constexpr double kLogSignalMin = -4.6, kLogSignalMax = 4.6;
constexpr double kLogNoiseMin = -13.8, kLogNoiseMax = 0.0;   // noise variance in [1e-6, 1]
constexpr double kJitter = 1e-9;

std::vector<double> matern_theta(std::vector<double> log_lengthscales, double log_signal, double log_noise) {
  log_lengthscales.push_back(log_signal);
  log_lengthscales.push_back(log_noise);
  return log_lengthscales;
}

}  // namespace

MaternKernel::MaternKernel(std::size_t dims)
    : MaternKernel(std::vector<double>(dims, std::log(0.3)), 0.0, std::log(1e-3)) {}

MaternKernel::MaternKernel(std::vector<double> log_lengthscales, double log_signal_variance,
                           double log_noise_variance)
    : Kernel(matern_theta(log_lengthscales, log_signal_variance, log_noise_variance)),
      dims_(log_lengthscales.size()) {}

double MaternKernel::operator()(const Eigen::VectorXd& a, const Eigen::VectorXd& b) const {
  double r2 = 0.0;
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    const double d = (a[i] - b[i]) * std::exp(-theta_[static_cast<std::size_t>(i)]);
    r2 += d * d;
  }
  const double r = std::sqrt(r2);
  const double s5r = std::sqrt(5.0) * r;
  return prior_variance() * (1.0 + s5r + 5.0 * r2 / 3.0) * std::exp(-s5r);
}

double MaternKernel::prior_variance() const { return std::exp(theta_[dims_]); }
double MaternKernel::noise_variance() const { return std::exp(theta_[dims_ + 1]) + kJitter; }

bool MaternKernel::admissible(const std::vector<double>& theta) const {
  for (std::size_t i = 0; i < dims_; ++i) {
    if (theta[i] < kLogLengthMin || theta[i] > kLogLengthMax) return false;
  }
  return theta[dims_] >= kLogSignalMin && theta[dims_] <= kLogSignalMax && theta[dims_ + 1] >= kLogNoiseMin &&
         theta[dims_ + 1] <= kLogNoiseMax;
}

std::vector<double> MaternKernel::random_theta(core::Rng& rng) const {
  std::vector<double> theta(dims_ + 2);
  for (std::size_t i = 0; i < dims_; ++i) theta[i] = rng.uniform(std::log(0.05), std::log(2.0));
  theta[dims_] = rng.uniform(-1.0, 1.0);
  theta[dims_ + 1] = rng.uniform(std::log(1e-5), std::log(1e-1));
  return theta;
}

GaussianProcess::GaussianProcess(const Kernel& kernel, bool standardize)
    : kernel_(kernel.clone()), standardize_(standardize) {}

GaussianProcess::GaussianProcess(const GaussianProcess& other)
    : kernel_(other.kernel_->clone()),
      standardize_(other.standardize_),
      x_(other.x_),
      y_(other.y_),
      y_mean_(other.y_mean_),
      y_std_(other.y_std_),
      llt_(other.llt_),
      alpha_(other.alpha_) {}

GaussianProcess& GaussianProcess::operator=(const GaussianProcess& other) {
  if (this != &other) *this = GaussianProcess(other);
  return *this;
}

Eigen::MatrixXd GaussianProcess::gram(const Kernel& kernel) const {
  const Eigen::Index n = x_.rows();
  Eigen::MatrixXd k(n, n);
  const double noise = kernel.noise_variance();
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j <= i; ++j) k(i, j) = k(j, i) = kernel(x_.row(i).transpose(), x_.row(j).transpose());
    k(i, i) += noise;
  }
  return k;
}

void GaussianProcess::set_data(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  x_ = x;
  y_mean_ = 0.0;
  y_std_ = 1.0;
  if (standardize_) {
    y_mean_ = y.mean();
    const double var = y.size() > 1 ? (y.array() - y_mean_).square().sum() / static_cast<double>(y.size() - 1) : 0.0;
    y_std_ = var > 1e-24 ? std::sqrt(var) : 1.0;
    y_ = (y.array() - y_mean_) / y_std_;
  } else {
    y_ = y;
  }
}

double GaussianProcess::log_marginal_likelihood(const std::vector<double>& theta) const {
  if (!kernel_->admissible(theta)) return -std::numeric_limits<double>::infinity();
  std::unique_ptr<Kernel> probe = kernel_->clone();
  probe->set_theta(theta);
  const Eigen::LLT<Eigen::MatrixXd> llt(gram(*probe));
  if (llt.info() != Eigen::Success) return -std::numeric_limits<double>::infinity();
  const Eigen::VectorXd alpha = llt.solve(y_);
  const double log_det = 2.0 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
  return -0.5 * y_.dot(alpha) - 0.5 * log_det - static_cast<double>(y_.size()) * core::kLogSqrt2Pi;
}

void GaussianProcess::fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, core::Rng& rng,
                          const GpFitOptions& options) {
  set_data(x, y);
  const auto objective = [&](const std::vector<double>& theta) {
    const double lml = log_marginal_likelihood(theta);
    return std::isfinite(lml) ? -lml : 1e300;
  };
  const std::vector<double> start = kernel_->theta();
  std::vector<double> best = start;
  double best_value = objective(best);
  for (int r = 0; r < options.runs; ++r) {
    const std::vector<double> x0 = r == 0 ? start : kernel_->random_theta(rng);
    double value = 0.0;
    const std::vector<double> found = nelder_mead(objective, x0, options.step, options.max_evals, &value);
    if (value < best_value) best_value = value, best = found;
  }
  kernel_->set_theta(best);
  condition(x, y);
}

void GaussianProcess::condition(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  set_data(x, y);
  llt_.compute(gram(*kernel_));
  alpha_ = llt_.solve(y_);
}

void GaussianProcess::predict(const Eigen::VectorXd& x, double& mean, double& variance) const {
  const Eigen::Index n = x_.rows();
  Eigen::VectorXd k(n);
  for (Eigen::Index i = 0; i < n; ++i) k(i) = (*kernel_)(x, x_.row(i).transpose());
  const Eigen::VectorXd v = llt_.matrixL().solve(k);
  mean = y_mean_ + y_std_ * k.dot(alpha_);
  variance = std::max(0.0, kernel_->prior_variance() - v.squaredNorm()) * y_std_ * y_std_;
}

double expected_improvement(double mean, double variance, double best) {
  const double sigma = std::sqrt(std::max(variance, 1e-18));
  const double z = (best - mean) / sigma;
  return (best - mean) * core::normal_cdf(z) + sigma * core::normal_pdf(z);
}

}  // namespace graybox::controllers
