#include "pbt/pb2.hpp"

#include <algorithm>
#include <cmath>

#include "controllers/nelder_mead.hpp"

namespace graybox::pbt {
namespace {

std::vector<double> theta_of(const TimeVaryingKernel::Params& p) {
  const double two_eps = 2.0 * p.epsilon;
  return {std::log(p.signal_variance), std::log(p.lengthscale), std::log(two_eps / (1.0 - two_eps)),
          std::log(p.noise_variance)};
}

}  // namespace

TimeVaryingKernel::TimeVaryingKernel() : Kernel({0.0, 0.0, -2.0, -4.0}) { update(); }

TimeVaryingKernel::TimeVaryingKernel(const Params& params) : Kernel(theta_of(params)) { update(); }

void TimeVaryingKernel::update() {
  params_.signal_variance = std::exp(std::clamp(theta_[0], -10.0, 10.0));
  params_.lengthscale = std::exp(std::clamp(theta_[1], -10.0, 10.0));
  params_.epsilon = 0.5 / (1.0 + std::exp(-std::clamp(theta_[2], -30.0, 30.0)));
  params_.noise_variance = std::exp(std::clamp(theta_[3], -14.0, 2.0));
}

double TimeVaryingKernel::operator()(const Eigen::VectorXd& a, const Eigen::VectorXd& b) const {
  const double sq = (a.tail(a.size() - 1) - b.tail(b.size() - 1)).squaredNorm();
  return params_.signal_variance * std::exp(-sq / params_.lengthscale) *
         std::pow(1.0 - params_.epsilon, std::abs(a(0) - b(0)) / 2.0);
}

std::vector<double> TimeVaryingKernel::random_theta(core::Rng& rng) const {
  return {rng.uniform(-2, 2), rng.uniform(-3, 2), rng.uniform(-4, 2), rng.uniform(-8, -1)};
}

controllers::GaussianProcess make_pb2_gp() { return controllers::GaussianProcess(TimeVaryingKernel(), false); }

controllers::GpFitOptions pb2_fit_options() {
  controllers::GpFitOptions o;
  o.runs = 3;
  o.step = 1.0;
  o.max_evals = 200;
  return o;
}

double pb2_beta(std::size_t n) {
  return 0.2 + std::max(0.0, std::log(0.4 * static_cast<double>(n)));
}

core::Configuration pb2_suggest(const core::SearchSpace& space, const std::vector<Pb2Point>& data,
                                const std::vector<Pb2Running>& running, double t, double score,
                                const core::Configuration& base, core::Rng& rng) {
  if (data.size() < 2) return base;
  // Normalisation: t and score by their observed range (current values included).
  double t_lo = t, t_hi = t, s_lo = score, s_hi = score;
  for (const auto& p : data) {
    t_lo = std::min(t_lo, p.t), t_hi = std::max(t_hi, p.t);
    s_lo = std::min(s_lo, p.score_before), s_hi = std::max(s_hi, p.score_before);
  }
  for (const auto& r : running) {
    t_lo = std::min(t_lo, r.t), t_hi = std::max(t_hi, r.t);
    s_lo = std::min(s_lo, r.score), s_hi = std::max(s_hi, r.score);
  }
  const auto scale = [](double v, double lo, double hi) { return hi > lo ? (v - lo) / (hi - lo) : 0.0; };
  const std::size_t d = space.size();
  const auto row = [&](double tt, double ss, const std::vector<double>& unit) {
    Eigen::VectorXd x(static_cast<Eigen::Index>(d + 2));
    x(0) = scale(tt, t_lo, t_hi);
    x(1) = scale(ss, s_lo, s_hi);
    for (std::size_t i = 0; i < d; ++i) x(static_cast<Eigen::Index>(i + 2)) = unit[i];
    return x;
  };

  const Eigen::Index n = static_cast<Eigen::Index>(data.size());
  Eigen::MatrixXd x(n, static_cast<Eigen::Index>(d + 2));
  Eigen::VectorXd y(n);
  double mean = 0.0;
  for (const auto& p : data) mean += p.y / static_cast<double>(n);
  double var = 0.0;
  for (const auto& p : data) var += (p.y - mean) * (p.y - mean) / static_cast<double>(n);
  const double sd = var > 0.0 ? std::sqrt(var) : 1.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto& p = data[static_cast<std::size_t>(i)];
    x.row(i) = row(p.t, p.score_before, space.encode(p.config)).transpose();
    y(i) = std::clamp((p.y - mean) / sd, -2.0, 2.0);
  }
  controllers::GaussianProcess gp = make_pb2_gp();
  gp.fit(x, y, rng, pb2_fit_options());

  // The same kernel with the running configurations added (y = 0) gives the variance.
  controllers::GaussianProcess batch_gp(gp.kernel(), false);
  Eigen::MatrixXd xb(n + static_cast<Eigen::Index>(running.size()), x.cols());
  Eigen::VectorXd yb = Eigen::VectorXd::Zero(xb.rows());
  xb.topRows(n) = x;
  yb.head(n) = y;
  for (std::size_t k = 0; k < running.size(); ++k) {
    xb.row(n + static_cast<Eigen::Index>(k)) = row(running[k].t, running[k].score, space.encode(running[k].config)).transpose();
  }
  batch_gp.condition(xb, yb);

  const double kappa = std::sqrt(pb2_beta(data.size()));
  std::vector<std::size_t> numeric;
  for (std::size_t i = 0; i < d; ++i) {
    const auto type = space.dims()[i].type;
    if ((type == core::DimensionType::kFloat || type == core::DimensionType::kInt) && !std::isnan(base.values[i])) {
      numeric.push_back(i);
    }
  }
  if (numeric.empty()) return base;
  const std::vector<double> base_unit = space.encode(base);
  const auto unit_of = [&](const std::vector<double>& z) {
    std::vector<double> u = base_unit;
    for (std::size_t k = 0; k < numeric.size(); ++k) u[numeric[k]] = std::clamp(z[k], 0.0, 1.0);
    return u;
  };
  // Minimised: -UCB, with a penalty outside the cube so Nelder-Mead stays inside.
  const auto negative_ucb = [&](const std::vector<double>& z) {
    double outside = 0.0;
    for (const double v : z) outside += std::max(0.0, -v) + std::max(0.0, v - 1.0);
    const Eigen::VectorXd q = row(t, score, unit_of(z));
    double mu = 0.0, ignored = 0.0, s2 = 0.0, mean_b = 0.0;
    gp.predict(q, mu, ignored);
    batch_gp.predict(q, mean_b, s2);
    return -(mu + kappa * s2) + 10.0 * outside;
  };
  std::vector<double> best(numeric.size());
  double best_value = INFINITY;
  std::vector<std::vector<double>> starts;
  for (int k = 0; k < 256; ++k) {
    std::vector<double> z(numeric.size());
    for (auto& v : z) v = rng.uniform();
    const double value = negative_ucb(z);
    if (value < best_value) best_value = value, best = z;
  }
  for (int r = 0; r < 3; ++r) {  // polish the best random point, then two random restarts
    std::vector<double> start = best;
    if (r > 0) {
      for (auto& v : start) v = rng.uniform();
    }
    double value = 0.0;
    const auto z = controllers::nelder_mead(negative_ucb, start, 0.1, 300, &value);
    if (value < best_value) best_value = value, best = z;
  }
  core::Configuration decoded = space.decode(unit_of(best));
  core::Configuration out = base;
  for (const std::size_t i : numeric) out.values[i] = decoded.values[i];
  return out;
}

}  // namespace graybox::pbt
