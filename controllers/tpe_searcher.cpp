#include "controllers/tpe_searcher.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace graybox::controllers {
namespace {

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double log_sum_exp(const std::vector<double>& v) {
  const double m = *std::max_element(v.begin(), v.end());
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (const double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

constexpr int kCandidates = 24;

}  // namespace

ParzenEstimator::ParzenEstimator(std::vector<double> points) {
  mus = std::move(points);
  mus.push_back(0.5);  // the prior component
  const std::size_t n = mus.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return mus[a] < mus[b]; });
  sigmas.assign(n, 1.0);
  // Bandwidth: the larger distance to a sorted neighbour (the bounds count as neighbours),
  // clipped to [1 / min(100, 1 + n), 1]; the prior keeps width 1.
  const double min_sigma = 1.0 / std::min(100.0, 1.0 + static_cast<double>(n));
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    if (i == n - 1) continue;
    const double left = k == 0 ? mus[i] - 0.0 : mus[i] - mus[order[k - 1]];
    const double right = k + 1 == n ? 1.0 - mus[i] : mus[order[k + 1]] - mus[i];
    sigmas[i] = std::clamp(std::max(left, right), min_sigma, 1.0);
  }
  weights.assign(n, 1.0 / static_cast<double>(n));
}

double ParzenEstimator::log_pdf(double x) const {
  std::vector<double> terms(mus.size());
  for (std::size_t i = 0; i < mus.size(); ++i) {
    const double s = sigmas[i];
    const double z = (x - mus[i]) / s;
    const double mass = normal_cdf((1.0 - mus[i]) / s) - normal_cdf((0.0 - mus[i]) / s);
    terms[i] = std::log(weights[i]) - 0.5 * z * z - std::log(s * std::sqrt(2.0 * M_PI)) - std::log(std::max(mass, 1e-300));
  }
  return log_sum_exp(terms);
}

double ParzenEstimator::sample(core::Rng& rng) const {
  double u = rng.uniform();
  std::size_t i = 0;
  while (i + 1 < weights.size() && u >= weights[i]) u -= weights[i++];
  for (int attempt = 0; attempt < 100; ++attempt) {
    const double x = rng.normal(mus[i], sigmas[i]);
    if (x >= 0.0 && x <= 1.0) return x;
  }
  return std::clamp(mus[i], 0.0, 1.0);
}

TpeSearcher::TpeSearcher(const core::SearchSpace& space, int startup_trials)
    : Searcher(space), startup_(startup_trials > 0 ? startup_trials : 10) {}

core::Configuration TpeSearcher::propose(core::Rng& rng, std::int64_t) {
  if (static_cast<int>(observations_.size()) < startup_) return space_.sample(rng);
  std::vector<double> u(space_.size(), 0.5);
  for (std::size_t d = 0; d < space_.size(); ++d) {
    const core::Dimension& dim = space_.dims()[d];
    if (dim.type == core::DimensionType::kFixed) continue;
    // The observations where this dimension was active, best first.
    std::vector<std::pair<double, double>> seen;  // (loss, encoded value)
    for (const auto& o : observations_) {
      if (!std::isnan(o.config.values[d])) seen.emplace_back(o.loss, space_.encode(o.config)[d]);
    }
    if (seen.size() < 2) {
      u[d] = rng.uniform();
      continue;
    }
    std::stable_sort(seen.begin(), seen.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    const std::size_t n_good = std::min<std::size_t>(static_cast<std::size_t>(std::ceil(0.1 * seen.size())), 25);
    std::vector<double> good, bad;
    for (std::size_t k = 0; k < seen.size(); ++k) (k < n_good ? good : bad).push_back(seen[k].second);

    if (dim.type == core::DimensionType::kCategorical) {
      const std::size_t kinds = dim.choices.size();
      // Weighted counts with a prior of one observation spread over the categories.
      std::vector<double> l(kinds, 1.0 / kinds), g(kinds, 1.0 / kinds);
      const auto cell = [&](double x) { return std::min(kinds - 1, static_cast<std::size_t>(x * kinds)); };
      for (const double x : good) l[cell(x)] += 1.0;
      for (const double x : bad) g[cell(x)] += 1.0;
      const double lt = std::accumulate(l.begin(), l.end(), 0.0), gt = std::accumulate(g.begin(), g.end(), 0.0);
      double best_score = -1e300;
      for (int c = 0; c < kCandidates; ++c) {
        double r = rng.uniform() * lt;
        std::size_t k = 0;
        while (k + 1 < kinds && r >= l[k]) r -= l[k++];
        const double score = std::log(l[k] / lt) - std::log(g[k] / gt);
        if (score > best_score) best_score = score, u[d] = (k + 0.5) / kinds;
      }
    } else {
      const ParzenEstimator l(good), g(bad);
      double best_score = -1e300;
      for (int c = 0; c < kCandidates; ++c) {
        const double x = l.sample(rng);
        const double score = l.log_pdf(x) - g.log_pdf(x);
        if (score > best_score) best_score = score, u[d] = x;
      }
    }
  }
  return space_.decode(u);
}

}  // namespace graybox::controllers
