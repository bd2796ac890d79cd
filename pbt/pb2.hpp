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

#include "controllers/gaussian_process.hpp"
#include "core/rng.hpp"
#include "core/search_space.hpp"

namespace graybox::pbt {

// PB2's covariance: k(a, b) = s2 exp(-|a' - b'|^2 / l) (1 - eps)^(|a_0 - b_0| / 2), a_0 the time
// and a' the rest, plus a noise variance on the diagonal; eps in [0, 0.5]. theta = [log s2,
// log l, logit(2 eps), log noise], clamped to [-10, 10], [-10, 10], [-30, 30], [-14, 2].
class TimeVaryingKernel final : public controllers::Kernel {
 public:
  struct Params {
    double signal_variance = 1.0;
    double lengthscale = 1.0;
    double epsilon = 0.1;
    double noise_variance = 1e-3;
  };
  TimeVaryingKernel();  // the fit's starting point: theta = [0, 0, -2, -4]
  explicit TimeVaryingKernel(const Params& params);
  std::unique_ptr<controllers::Kernel> clone() const override { return std::make_unique<TimeVaryingKernel>(*this); }
  double operator()(const Eigen::VectorXd& a, const Eigen::VectorXd& b) const override;
  double prior_variance() const override { return params_.signal_variance; }
  double noise_variance() const override { return params_.noise_variance; }
  bool admissible(const std::vector<double>&) const override { return true; }
  std::vector<double> random_theta(core::Rng& rng) const override;
  const Params& params() const { return params_; }

 private:
  void update() override;
  Params params_;
};

// PB2's GP: the time-varying kernel on unstandardised targets (pb2_suggest scales them itself).
controllers::GaussianProcess make_pb2_gp();
// Nelder-Mead over theta: 3 runs of 200 evaluations from a simplex of size 1.
controllers::GpFitOptions pb2_fit_options();

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
