#include "controllers/gaussian_process.hpp"

#include <cmath>
#include <limits>

#include "controllers/nelder_mead.hpp"

namespace graybox::controllers {
namespace {

constexpr double kLogLengthMin = -4.6, kLogLengthMax = 3.0;  // lengthscales in [0.01, 20]
constexpr double kLogSignalMin = -4.6, kLogSignalMax = 4.6;
constexpr double kLogNoiseMin = -13.8, kLogNoiseMax = 0.0;   // noise variance in [1e-6, 1]

GaussianProcess::Params unpack(const std::vector<double>& v, std::size_t d) {
  GaussianProcess::Params p;
  p.log_lengthscales.assign(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(d));
  p.log_signal_variance = v[d];
  p.log_noise_variance = v[d + 1];
  return p;
}

std::vector<double> pack(const GaussianProcess::Params& p) {
  std::vector<double> v = p.log_lengthscales;
  v.push_back(p.log_signal_variance);
  v.push_back(p.log_noise_variance);
  return v;
}

bool in_bounds(const GaussianProcess::Params& p) {
  for (const double l : p.log_lengthscales) {
    if (l < kLogLengthMin || l > kLogLengthMax) return false;
  }
  return p.log_signal_variance >= kLogSignalMin && p.log_signal_variance <= kLogSignalMax &&
         p.log_noise_variance >= kLogNoiseMin && p.log_noise_variance <= kLogNoiseMax;
}

}  // namespace

double GaussianProcess::kernel(const Eigen::VectorXd& a, const Eigen::VectorXd& b, const Params& p) const {
  double r2 = 0.0;
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    const double d = (a[i] - b[i]) * std::exp(-p.log_lengthscales[static_cast<std::size_t>(i)]);
    r2 += d * d;
  }
  const double r = std::sqrt(r2);
  const double s5r = std::sqrt(5.0) * r;
  return std::exp(p.log_signal_variance) * (1.0 + s5r + 5.0 * r2 / 3.0) * std::exp(-s5r);
}

double GaussianProcess::log_marginal_likelihood(const Params& p) const {
  if (!in_bounds(p)) return -std::numeric_limits<double>::infinity();
  const Eigen::Index n = x_.rows();
  Eigen::MatrixXd k(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j <= i; ++j) {
      k(i, j) = k(j, i) = kernel(x_.row(i), x_.row(j), p);
    }
    k(i, i) += std::exp(p.log_noise_variance) + 1e-9;
  }
  Eigen::LLT<Eigen::MatrixXd> llt(k);
  if (llt.info() != Eigen::Success) return -std::numeric_limits<double>::infinity();
  const Eigen::VectorXd alpha = llt.solve(y_);
  const Eigen::MatrixXd l = llt.matrixL();
  double log_det = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) log_det += std::log(l(i, i));
  return -0.5 * y_.dot(alpha) - log_det - 0.5 * static_cast<double>(n) * std::log(2.0 * M_PI);
}

void GaussianProcess::fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, core::Rng& rng, int restarts) {
  const std::size_t d = static_cast<std::size_t>(x.cols());
  Params start;
  start.log_lengthscales.assign(d, std::log(0.3));
  start.log_signal_variance = 0.0;
  start.log_noise_variance = std::log(1e-3);
  condition(x, y, start);  // sets the standardised data
  const auto objective = [&](const std::vector<double>& v) {
    const double lml = log_marginal_likelihood(unpack(v, d));
    return std::isfinite(lml) ? -lml : 1e300;
  };
  std::vector<double> best = pack(start);
  double best_value = objective(best);
  for (int r = 0; r <= restarts; ++r) {
    std::vector<double> x0 = pack(start);
    if (r > 0) {
      for (std::size_t i = 0; i < d; ++i) x0[i] = rng.uniform(std::log(0.05), std::log(2.0));
      x0[d] = rng.uniform(-1.0, 1.0);
      x0[d + 1] = rng.uniform(std::log(1e-5), std::log(1e-1));
    }
    double value = 0.0;
    const std::vector<double> found = nelder_mead(objective, x0, 0.5, 60 * static_cast<int>(d + 2), &value);
    if (value < best_value) best_value = value, best = found;
  }
  condition(x, y, unpack(best, d));
}

void GaussianProcess::condition(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const Params& params) {
  x_ = x;
  y_mean_ = y.mean();
  const double var = y.size() > 1 ? (y.array() - y_mean_).square().sum() / static_cast<double>(y.size() - 1) : 0.0;
  y_std_ = var > 1e-24 ? std::sqrt(var) : 1.0;
  y_ = (y.array() - y_mean_) / y_std_;
  params_ = params;
  const Eigen::Index n = x_.rows();
  Eigen::MatrixXd k(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j <= i; ++j) k(i, j) = k(j, i) = kernel(x_.row(i), x_.row(j), params_);
    k(i, i) += std::exp(params_.log_noise_variance) + 1e-9;
  }
  llt_.compute(k);
  alpha_ = llt_.solve(y_);
}

void GaussianProcess::predict(const Eigen::VectorXd& x, double& mean, double& variance) const {
  const Eigen::Index n = x_.rows();
  Eigen::VectorXd ks(n);
  for (Eigen::Index i = 0; i < n; ++i) ks[i] = kernel(x_.row(i), x, params_);
  const double m = ks.dot(alpha_);
  const Eigen::VectorXd v = llt_.matrixL().solve(ks);
  const double var = std::max(std::exp(params_.log_signal_variance) - v.squaredNorm(), 1e-12);
  mean = y_mean_ + y_std_ * m;
  variance = var * y_std_ * y_std_;
}

double expected_improvement(double mean, double variance, double best) {
  const double sigma = std::sqrt(std::max(variance, 1e-18));
  const double z = (best - mean) / sigma;
  const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
  const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI);
  return (best - mean) * cdf + sigma * pdf;
}

}  // namespace graybox::controllers
