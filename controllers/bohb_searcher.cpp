#include "controllers/bohb_searcher.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/normal.hpp"

namespace graybox::controllers {
namespace {

std::size_t category(double u, std::size_t kinds) {
  return std::min(kinds - 1, static_cast<std::size_t>(u * static_cast<double>(kinds)));
}

}  // namespace

BohbKde::BohbKde(std::vector<std::vector<double>> data, std::vector<std::size_t> kinds_)
    : points(std::move(data)), kinds(std::move(kinds_)) {
  const std::size_t d = kinds.size();
  const double n = static_cast<double>(points.size());
  const double shrink = std::pow(n, -1.0 / (4.0 + static_cast<double>(d)));
  bandwidth.assign(d, 0.0);
  for (std::size_t i = 0; i < d; ++i) {
    // A category's bandwidth comes from its index, as HpBandSter hands statsmodels indices.
    const auto value = [&](const std::vector<double>& p) {
      return kinds[i] ? static_cast<double>(category(p[i], kinds[i])) : p[i];
    };
    double mean = 0.0;
    for (const auto& p : points) mean += value(p) / n;
    double var = 0.0;
    for (const auto& p : points) var += (value(p) - mean) * (value(p) - mean) / n;
    bandwidth[i] = std::max(1.06 * std::sqrt(var) * shrink, BohbSearcher::kMinBandwidth);
  }
}

double BohbKde::pdf(const std::vector<double>& x) const {
  double total = 0.0;
  for (const auto& p : points) {
    double k = 1.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (kinds[i]) {
        // Aitchison-Aitken, lambda capped where the kernel becomes uniform.
        const double others = static_cast<double>(std::max<std::size_t>(kinds[i] - 1, 1));
        const double lambda = std::min(bandwidth[i], others / static_cast<double>(kinds[i]));
        k *= category(x[i], kinds[i]) == category(p[i], kinds[i]) ? 1.0 - lambda : lambda / others;
      } else {
        k *= core::normal_pdf((x[i] - p[i]) / bandwidth[i]) / bandwidth[i];
      }
    }
    total += k;
  }
  return total / static_cast<double>(points.size());
}

BohbSearcher::BohbSearcher(const core::SearchSpace& space) : Searcher(space) {
  for (std::size_t i = 0; i < space.size(); ++i) {
    const core::Dimension& dim = space.dims()[i];
    if (dim.type == core::DimensionType::kFixed) continue;
    tuned_.push_back(i);
    kinds_.push_back(dim.type == core::DimensionType::kCategorical ? dim.choices.size() : 0);
  }
}

void BohbSearcher::split(std::int64_t budget, std::vector<std::vector<double>>& good,
                         std::vector<std::vector<double>>& bad) const {
  std::vector<const Observation*> sorted;
  for (const auto& o : observations_) {
    if (o.budget == budget) sorted.push_back(&o);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const Observation* a, const Observation* b) { return a->loss < b->loss; });
  const std::size_t n = sorted.size(), min_points = tuned_.size() + 1;
  const std::size_t n_good = std::max(min_points, static_cast<std::size_t>(15 * n / 100));
  const std::size_t n_bad = std::max(min_points, static_cast<std::size_t>(85 * n / 100));
  good.clear();
  bad.clear();
  for (std::size_t k = 0; k < n && k < n_good + n_bad; ++k) {
    const std::vector<double> u = space_.encode(sorted[k]->config);
    std::vector<double> x;
    for (const std::size_t i : tuned_) x.push_back(u[i]);
    (k < n_good ? good : bad).push_back(x);
  }
}

std::int64_t BohbSearcher::model_budget() const {
  std::set<std::int64_t> budgets;
  for (const auto& o : observations_) budgets.insert(o.budget);
  std::vector<std::vector<double>> good, bad;
  for (auto it = budgets.rbegin(); it != budgets.rend(); ++it) {
    split(*it, good, bad);
    if (good.size() > tuned_.size() && bad.size() > tuned_.size()) return *it;
  }
  return -1;
}

core::Configuration BohbSearcher::propose(core::Rng& rng, std::int64_t) {
  const std::int64_t budget = model_budget();
  if (budget < 0 || rng.uniform() < kRandomFraction) return space_.sample(rng);
  std::vector<std::vector<double>> good, bad;
  split(budget, good, bad);
  const BohbKde l(good, kinds_), g(bad, kinds_);

  double best_score = -1e300;
  std::vector<double> best = good.front();
  for (int c = 0; c < kCandidates; ++c) {
    const std::vector<double>& centre = good[rng.below(good.size())];
    std::vector<double> x(centre.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (kinds_[i]) {
        x[i] = rng.uniform() < 1.0 - l.bandwidth[i]
                   ? centre[i]
                   : (static_cast<double>(rng.below(kinds_[i])) + 0.5) / static_cast<double>(kinds_[i]);
      } else {
        const double sd = l.bandwidth[i] * kBandwidthFactor;
        double v = std::clamp(centre[i], 0.0, 1.0);
        for (int attempt = 0; attempt < 1000; ++attempt) {  // the truncated Gaussian by rejection
          const double draw = rng.normal(centre[i], sd);
          if (draw >= 0.0 && draw <= 1.0) {
            v = draw;
            break;
          }
        }
        x[i] = v;
      }
    }
    const double score = std::max(l.pdf(x), 1e-32) / std::max(g.pdf(x), 1e-32);
    if (score > best_score) best_score = score, best = x;
  }
  std::vector<double> u(space_.size(), 0.5);
  for (std::size_t k = 0; k < tuned_.size(); ++k) u[tuned_[k]] = best[k];
  return space_.decode(u);
}

}  // namespace graybox::controllers
