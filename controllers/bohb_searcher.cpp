#include "controllers/bohb_searcher.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace graybox::controllers {
namespace {

// A product kernel density estimate on the unit cube: Gaussian kernels for numeric
// dimensions (normal-reference bandwidth 1.06 sd n^-1/5), Aitchison-Aitken for categories.
struct Kde {
  std::vector<std::vector<double>> points;
  std::vector<double> bandwidth;
  std::vector<std::size_t> kinds;  // 0 for numeric dimensions

  Kde(std::vector<std::vector<double>> data, const core::SearchSpace& space) : points(std::move(data)) {
    const std::size_t d = space.size();
    const double n = static_cast<double>(points.size());
    bandwidth.assign(d, 0.0);
    kinds.assign(d, 0);
    for (std::size_t i = 0; i < d; ++i) {
      const core::Dimension& dim = space.dims()[i];
      if (dim.type == core::DimensionType::kCategorical) kinds[i] = dim.choices.size();
      double mean = 0.0;
      for (const auto& p : points) mean += p[i] / n;
      double var = 0.0;
      for (const auto& p : points) var += (p[i] - mean) * (p[i] - mean) / std::max(1.0, n - 1);
      const double bw = kinds[i] ? std::min(0.5, std::sqrt(var)) : 1.06 * std::sqrt(var) * std::pow(n, -0.2);
      bandwidth[i] = std::max(bw, BohbSearcher::kMinBandwidth);
    }
  }

  double pdf(const std::vector<double>& x) const {
    double total = 0.0;
    for (const auto& p : points) {
      double k = 1.0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (kinds[i]) {
          const bool same = static_cast<std::size_t>(x[i] * kinds[i]) == static_cast<std::size_t>(p[i] * kinds[i]);
          const double bw = std::min(bandwidth[i], 1.0);
          k *= same ? 1.0 - bw : bw / static_cast<double>(kinds[i] - 1 > 0 ? kinds[i] - 1 : 1);
        } else {
          const double z = (x[i] - p[i]) / bandwidth[i];
          k *= std::exp(-0.5 * z * z) / (bandwidth[i] * std::sqrt(2.0 * M_PI));
        }
      }
      total += k;
    }
    return total / static_cast<double>(points.size());
  }
};

}  // namespace

BohbSearcher::BohbSearcher(const core::SearchSpace& space) : Searcher(space) {}

core::Configuration BohbSearcher::propose(core::Rng& rng, std::int64_t) {
  const std::size_t d = space_.size();
  const std::size_t min_points = d + 1;
  // The largest budget with enough results for a model.
  std::map<std::int64_t, std::vector<const Observation*>> by_budget;
  for (const auto& o : observations_) by_budget[o.budget].push_back(&o);
  const std::vector<const Observation*>* chosen = nullptr;
  for (auto it = by_budget.rbegin(); it != by_budget.rend(); ++it) {
    if (it->second.size() > min_points + 1) {
      chosen = &it->second;
      break;
    }
  }
  if (!chosen || rng.uniform() < kRandomFraction) return space_.sample(rng);

  std::vector<const Observation*> sorted = *chosen;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Observation* a, const Observation* b) { return a->loss < b->loss; });
  const std::size_t n = sorted.size();
  const std::size_t n_good = std::max(min_points, static_cast<std::size_t>(kTopFraction * static_cast<double>(n)));
  const std::size_t n_bad = std::max(min_points, n - static_cast<std::size_t>(kTopFraction * static_cast<double>(n)));
  std::vector<std::vector<double>> good, bad;
  for (std::size_t k = 0; k < n_good && k < n; ++k) good.push_back(space_.encode(sorted[k]->config));
  // As HpBandSter: the bad set is the n_bad results after the good ones (never overlapping).
  for (std::size_t k = n_good; k < n && k < n_good + n_bad; ++k) bad.push_back(space_.encode(sorted[k]->config));
  if (good.empty() || bad.empty()) return space_.sample(rng);
  const Kde l(good, space_), g(bad, space_);

  double best_score = -1e300;
  std::vector<double> best = good.front();
  for (int c = 0; c < kCandidates; ++c) {
    const std::vector<double>& centre = good[rng.below(good.size())];
    std::vector<double> x(d);
    for (std::size_t i = 0; i < d; ++i) {
      if (l.kinds[i]) {
        // Keep the centre's category with probability 1 - bw, else draw uniformly.
        x[i] = rng.uniform() < std::min(l.bandwidth[i], 1.0)
                   ? (static_cast<double>(rng.below(l.kinds[i])) + 0.5) / static_cast<double>(l.kinds[i])
                   : centre[i];
      } else {
        const double sd = l.bandwidth[i] * kBandwidthFactor;
        double v = centre[i];
        for (int attempt = 0; attempt < 100; ++attempt) {
          v = rng.normal(centre[i], sd);
          if (v >= 0.0 && v <= 1.0) break;
        }
        x[i] = std::clamp(v, 0.0, 1.0);
      }
    }
    const double score = std::max(l.pdf(x), 1e-32) / std::max(g.pdf(x), 1e-32);
    if (score > best_score) best_score = score, best = x;
  }
  return space_.decode(best);
}

}  // namespace graybox::controllers
