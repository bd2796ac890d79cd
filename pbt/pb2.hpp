// PB2 (Parker-Holder et al. 2020), as specs/algorithms.md gives it: a GP with a time-varying
// squared-exponential kernel models y = Δscore / Δsteps of a member over an interval from the
// features [t, score before, hyperparameters...]; a loser's new hyperparameters maximise UCB
// with the variance taken from a GP that also holds the running configurations (fake y = 0).
//
// Categorical dimensions are features of the GP (at their cell centres, as SearchSpace::encode
// puts them) but PB2 does not choose them: they follow PBT's explore rule (resample, or shift
// one position in an ordered list). Integers are optimised continuously and rounded by decode.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "core/rng.hpp"
#include "core/search_space.hpp"

namespace graybox::pbt {

// k(a, b) = s2 exp(-|a' - b'|^2 / l) (1 - eps)^(|a_0 - b_0| / 2), a_0 the time and a' the rest,
// plus a noise variance on the diagonal; eps in [0, 0.5].
class TimeVaryingGp {
 public:
  struct Params {
    double signal_variance = 1.0;
    double lengthscale = 1.0;
    double epsilon = 0.1;
    double noise_variance = 1e-3;
  };

  double kernel(const Eigen::VectorXd& a, const Eigen::VectorXd& b) const;
  // Maximum marginal likelihood (Nelder-Mead over log s2, log l, logit(2 eps), log noise, with
  // restarts), then condition().
  void fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, core::Rng& rng, int restarts = 3);
  void condition(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const Params& params);
  void predict(const Eigen::VectorXd& x, double& mean, double& variance) const;
  double log_marginal_likelihood(const Params& params) const;  // on the conditioned data

  const Params& params() const { return params_; }

 private:
  Eigen::MatrixXd x_;
  Eigen::VectorXd y_;
  Params params_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::VectorXd alpha_;
};

// One observation: a member's interval.
struct Pb2Point {
  double t = 0.0;             // steps (units) at the interval's end
  double score_before = 0.0;  // the member's gain (higher is better) at the interval's start
  core::Configuration config;
  double y = 0.0;             // gain change per unit
};

// A member that runs in the next interval: its time, gain and configuration (fake y = 0).
struct Pb2Running {
  double t = 0.0, score = 0.0;
  core::Configuration config;
};

// β = 0.2 + max(0, log(0.4 N)) with N data points (Ray's c1, c2); UCB = μ + √β σ².
double pb2_beta(std::size_t n);

// New numeric values for a loser that copied a donor at time t with gain `score`; `base` holds
// the categorical choices already made (by explore) and is returned with the numeric dimensions
// replaced. With fewer than 2 points, returns base unchanged (the caller explores instead).
core::Configuration pb2_suggest(const core::SearchSpace& space, const std::vector<Pb2Point>& data,
                                const std::vector<Pb2Running>& running, double t, double score,
                                const core::Configuration& base, core::Rng& rng);

}  // namespace graybox::pbt
