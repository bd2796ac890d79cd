// TPE (Bergstra et al. 2011, with Optuna's defaults): losses split into the best gamma(n) =
// min(ceil(0.1 n), 25) and the rest; each dimension gets a Parzen estimator l(x) of the good
// and g(x) of the others (truncated Gaussians on the unit cube with a flat prior component;
// weighted counts for categories); 24 candidates are drawn from l and the one with the
// largest l(x)/g(x) is taken, dimension by dimension. The first 10 trials are random.
#pragma once

#include "controllers/searcher.hpp"

namespace graybox::controllers {

class TpeSearcher final : public Searcher {
 public:
  TpeSearcher(const core::SearchSpace& space, int startup_trials);
  std::string name() const override { return "tpe"; }
  core::Configuration propose(core::Rng& rng, std::int64_t budget) override;

 private:
  int startup_;
};

// One-dimensional Parzen estimator on [0, 1]: a mixture of truncated Gaussians at `points`
// with Optuna's neighbour-distance bandwidths, plus a prior component N(0.5, 1).
struct ParzenEstimator {
  std::vector<double> mus, sigmas, weights;
  explicit ParzenEstimator(std::vector<double> points);
  double log_pdf(double x) const;
  double sample(core::Rng& rng) const;
};

}  // namespace graybox::controllers
