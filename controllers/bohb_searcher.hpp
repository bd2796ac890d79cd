// BOHB's model (Falkner et al. 2018; HpBandSter's defaults): for each budget, once it holds
// more than d + 1 results, a pair of kernel density estimates over the best 15 % (l) and the
// rest (g); sampling uses the largest budget that has a model: 64 candidates drawn around good
// points with bandwidths widened by a factor 3, keeping the one with the largest l(x)/g(x).
// A third of the proposals stay random.
#pragma once

#include "controllers/searcher.hpp"

namespace graybox::controllers {

class BohbSearcher final : public Searcher {
 public:
  explicit BohbSearcher(const core::SearchSpace& space);
  std::string name() const override { return "bohb"; }
  core::Configuration propose(core::Rng& rng, std::int64_t budget) override;

  static constexpr double kTopFraction = 0.15;
  static constexpr int kCandidates = 64;
  static constexpr double kRandomFraction = 1.0 / 3.0;
  static constexpr double kBandwidthFactor = 3.0;
  static constexpr double kMinBandwidth = 1e-3;
};

}  // namespace graybox::controllers
