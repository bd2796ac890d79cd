// GP-BO: a Gaussian process (Matérn-5/2 ARD, fitted by marginal likelihood with restarts) over
// the encoded configurations, and the next configuration maximises expected improvement.
// Categorical dimensions enter the GP one-hot; numeric ones on the log-aware unit cube.
// Proposals still training (parallel > 1) enter as a constant liar at the best loss so far.
#pragma once

#include <Eigen/Dense>

#include "controllers/searcher.hpp"

namespace graybox::controllers {

class GpSearcher final : public Searcher {
 public:
  GpSearcher(const core::SearchSpace& space, int initial_points);
  std::string name() const override { return "gp"; }
  core::Configuration propose(core::Rng& rng, std::int64_t budget) override;

  Eigen::VectorXd features(const core::Configuration& c) const;

 private:
  int initial_points_;
};

}  // namespace graybox::controllers
