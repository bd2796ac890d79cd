#include "controllers/gp_searcher.hpp"

#include <algorithm>
#include <cmath>

#include "controllers/gaussian_process.hpp"
#include "controllers/nelder_mead.hpp"

namespace graybox::controllers {

GpSearcher::GpSearcher(const core::SearchSpace& space, int initial_points)
    : Searcher(space),
      initial_points_(initial_points > 0 ? initial_points : std::max<int>(5, static_cast<int>(space.size()) + 1)) {}

Eigen::VectorXd GpSearcher::features(const core::Configuration& c) const {
  const std::vector<double> u = space_.encode(c);
  std::vector<double> f;
  for (std::size_t i = 0; i < space_.size(); ++i) {
    const core::Dimension& d = space_.dims()[i];
    if (d.type == core::DimensionType::kFixed) continue;
    if (d.type == core::DimensionType::kCategorical) {
      for (std::size_t k = 0; k < d.choices.size(); ++k) {
        f.push_back(!std::isnan(c.values[i]) && static_cast<std::size_t>(c.values[i]) == k ? 1.0 : 0.0);
      }
    } else {
      f.push_back(u[i]);
    }
  }
  return Eigen::Map<Eigen::VectorXd>(f.data(), static_cast<Eigen::Index>(f.size()));
}

core::Configuration GpSearcher::propose(core::Rng& rng, std::int64_t) {
  // Random until the results and the proposals still training make up the initial points.
  if (observations_.size() < 2 || static_cast<int>(observations_.size() + pending_.size()) < initial_points_) {
    return space_.sample(rng);
  }

  const Eigen::Index n = static_cast<Eigen::Index>(observations_.size());
  const Eigen::Index dim = features(observations_[0].config).size();
  if (dim == 0) return space_.sample(rng);
  // Crashed trials count as the worst finite loss seen, so they repel without wrecking the
  // standardisation of the targets.
  double worst = -1e300;
  for (const auto& o : observations_) {
    if (std::isfinite(o.loss) && o.loss < 1e290) worst = std::max(worst, o.loss);
  }
  Eigen::MatrixXd x(n, dim);
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    x.row(i) = features(observations_[static_cast<std::size_t>(i)].config);
    const double loss = observations_[static_cast<std::size_t>(i)].loss;
    y[i] = (std::isfinite(loss) && loss < 1e290) ? loss : worst;
  }
  GaussianProcess gp(MaternKernel(static_cast<std::size_t>(dim)), true);
  GpFitOptions fit;
  fit.runs = 3;
  fit.step = 0.5;
  fit.max_evals = 60 * static_cast<int>(dim + 2);
  gp.fit(x, y, rng, fit);
  const double best = y.minCoeff();
  if (!pending_.empty()) {
    // A constant liar (CL-min): the proposals still training enter as if they had scored the
    // best loss so far, with the kernel fitted on the real results; expected improvement then
    // vanishes at them and a batch spreads out.
    const Eigen::Index m = static_cast<Eigen::Index>(pending_.size());
    Eigen::MatrixXd xl(n + m, dim);
    Eigen::VectorXd yl(n + m);
    xl.topRows(n) = x;
    yl.head(n) = y;
    for (Eigen::Index k = 0; k < m; ++k) {
      xl.row(n + k) = features(pending_[static_cast<std::size_t>(k)].config);
      yl[n + k] = best;
    }
    GaussianProcess liar(gp.kernel(), true);
    liar.condition(xl, yl);
    gp = liar;
  }

  const auto neg_ei = [&](const std::vector<double>& u) {
    std::vector<double> clamped(u);
    for (auto& v : clamped) v = std::clamp(v, 0.0, 1.0);
    double mean = 0.0, var = 0.0;
    gp.predict(features(space_.decode(clamped)), mean, var);
    return -expected_improvement(mean, var, best);
  };
  // Random candidates, then polish the best few with Nelder-Mead.
  const int candidates = 1000;
  std::vector<std::pair<double, std::vector<double>>> scored;
  for (int k = 0; k < candidates; ++k) {
    std::vector<double> u(space_.size());
    for (auto& v : u) v = rng.uniform();
    scored.emplace_back(neg_ei(u), u);
  }
  std::partial_sort(scored.begin(), scored.begin() + 3, scored.end(),
                    [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<double> best_u = scored[0].second;
  double best_value = scored[0].first;
  for (int k = 0; k < 3; ++k) {
    double value = 0.0;
    std::vector<double> u = nelder_mead(neg_ei, scored[static_cast<std::size_t>(k)].second, 0.05, 100, &value);
    if (value < best_value) best_value = value, best_u = u;
  }
  for (auto& v : best_u) v = std::clamp(v, 0.0, 1.0);
  return space_.decode(best_u);
}

}  // namespace graybox::controllers
