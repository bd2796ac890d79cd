// BOHB's model (Falkner et al. 2018), as HpBandSter's BOHB config generator with its defaults:
// per budget, the results sorted by loss split into the best n_good = max(d + 1, 15 n / 100)
// (integer division) and the next n_bad = max(d + 1, 85 n / 100); a budget has a model when
// both sets hold more than d points (d: the non-fixed dimensions). Each set gets a product
// kernel density estimate with statsmodels' normal-reference bandwidths, 1.06 sd n^(-1/(4+d))
// (sd: the population standard deviation of the set, per dimension; for a category, of its
// index), floored at 1e-3: Gaussian kernels for numbers, Aitchison-Aitken for categories.
// Two deliberate differences from statsmodels' Aitchison-Aitken, both for categories only: the
// level count is the dimension's number of choices (statsmodels counts the distinct values in
// the set, so a set holding one choice divides by zero and HpBandSter meets infinite l(x)/g(x)),
// and lambda is capped at (k - 1) / k, where the kernel is uniform (statsmodels lets an index
// bandwidth above 1 make the kernel negative).
// A proposal is random with probability 1/3 or when no budget has a model; otherwise it comes
// from the largest budget with a model: 64 candidates, each around a random good point
// (numbers: a Gaussian truncated to [0, 1] with the bandwidth times 3; categories: the point's
// choice with probability 1 - bandwidth, else a uniform one), keeping the largest l(x)/g(x).
#pragma once

#include <cstddef>
#include <vector>

#include "controllers/searcher.hpp"

namespace graybox::controllers {

// A product kernel density estimate over the non-fixed dimensions of the unit cube.
struct BohbKde {
  std::vector<std::vector<double>> points;  // encoded, non-fixed dimensions only
  std::vector<std::size_t> kinds;           // per dimension: choices of a category, 0 for a number
  std::vector<double> bandwidth;            // normal reference, floored at kMinBandwidth
  BohbKde(std::vector<std::vector<double>> points, std::vector<std::size_t> kinds);
  double pdf(const std::vector<double>& x) const;
};

class BohbSearcher final : public Searcher {
 public:
  explicit BohbSearcher(const core::SearchSpace& space);
  std::string name() const override { return "bohb"; }
  core::Configuration propose(core::Rng& rng, std::int64_t budget) override;
  // The budget whose model proposals come from (the largest with one), or -1 if none has one.
  std::int64_t model_budget() const;

  static constexpr double kTopFraction = 0.15;
  static constexpr int kCandidates = 64;
  static constexpr double kRandomFraction = 1.0 / 3.0;
  static constexpr double kBandwidthFactor = 3.0;
  static constexpr double kMinBandwidth = 1e-3;

 private:
  // The good and bad sets of one budget's results, encoded (non-fixed dimensions).
  void split(std::int64_t budget, std::vector<std::vector<double>>& good, std::vector<std::vector<double>>& bad) const;
  std::vector<std::size_t> tuned_;  // the non-fixed dimensions (the KDE's d)
  std::vector<std::size_t> kinds_;
};

}  // namespace graybox::controllers
