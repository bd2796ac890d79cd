#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "controllers/controller.hpp"
#include "controllers/gaussian_process.hpp"
#include "controllers/tpe_searcher.hpp"
#include "core/yaml.hpp"
#include "tasks/synthetic_task.hpp"

namespace graybox::controllers {
namespace {

const char* kBraninSpace = "x1: {type: float, low: -5, high: 10}\nx2: {type: float, low: 0, high: 15}\n";

// The best value of `objective` a controller finds with a given seed.
double best_found(const ControllerOptions& options, const core::SearchSpace& space,
                  const std::function<double(const double*)>& objective, std::uint64_t seed) {
  auto c = make_controller(options, space, seed);
  double best = 1e300;
  for (;;) {
    const Suggestion s = c->suggest();
    if (s.kind != Suggestion::Kind::kJob) break;
    const double y = objective(s.job.config.values.data());
    best = std::min(best, y);
    c->on_result(s.job, y);
  }
  return best;
}

// Best Branin value an algorithm finds in `trials` evaluations with a given seed.
double best_branin(const std::string& algorithm, int trials, std::uint64_t seed) {
  const core::SearchSpace space = core::SearchSpace::from_yaml(YAML::Load(kBraninSpace), "t");
  ControllerOptions o;
  o.algorithm = algorithm;
  o.num_trials = trials;
  o.max_budget = 1;
  return best_found(o, space, [](const double* x) { return tasks::branin(x[0], x[1]); }, seed);
}

double median_best(const std::string& algorithm, int trials, int seeds) {
  std::vector<double> bests;
  for (int seed = 1; seed <= seeds; ++seed) bests.push_back(best_branin(algorithm, trials, static_cast<std::uint64_t>(seed)));
  std::sort(bests.begin(), bests.end());
  return 0.5 * (bests[(bests.size() - 1) / 2] + bests[bests.size() / 2]);
}

TEST(Synthetic, KnownOptima) {
  EXPECT_NEAR(tasks::branin(-M_PI, 12.275), 0.397887, 1e-5);
  EXPECT_NEAR(tasks::branin(M_PI, 2.275), 0.397887, 1e-5);
  EXPECT_NEAR(tasks::branin(9.42478, 2.475), 0.397887, 1e-5);
  const double x[6] = {0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573};
  EXPECT_NEAR(tasks::hartmann6(x), -3.32237, 1e-4);
}

TEST(GpBo, MedianBestBraninWithin005OfTheOptimumIn40Evaluations) {
  const double median = median_best("gp", 40, 10);
  EXPECT_LT(median - 0.397887, 0.05) << "median best " << median;
}

TEST(Tpe, BeatsRandomSearchOnBranin) {
  const double tpe = median_best("tpe", 60, 9);
  const double random = median_best("random", 60, 9);
  EXPECT_LT(tpe, random) << "tpe " << tpe << " random " << random;
  EXPECT_LT(tpe, 1.5);
}

TEST(Grid, CoversTheGrid) {
  const core::SearchSpace space = core::SearchSpace::from_yaml(YAML::Load(kBraninSpace), "t");
  ControllerOptions o;
  o.algorithm = "grid";
  o.grid_points = 4;
  auto c = make_controller(o, space, 1);
  int n = 0;
  for (Suggestion s = c->suggest(); s.kind == Suggestion::Kind::kJob; s = c->suggest()) {
    c->on_result(s.job, 0.0);
    ++n;
  }
  EXPECT_EQ(n, 16);
}

TEST(GaussianProcess, HandComputedTwoPointPosterior) {
  Eigen::MatrixXd x(2, 1);
  x << 0.0, 1.0;
  Eigen::VectorXd y(2);
  y << 1.0, 3.0;  // standardised: -1/sqrt(2), +1/sqrt(2)
  const MaternKernel kernel({0.0}, 0.0, std::log(1e-5));
  GaussianProcess gp(kernel, true);
  gp.condition(x, y);
  // Matérn-5/2 at r = 1: (1 + sqrt5 + 5/3) exp(-sqrt5).
  const double k01 = (1.0 + std::sqrt(5.0) + 5.0 / 3.0) * std::exp(-std::sqrt(5.0));
  Eigen::VectorXd a(1), b(1);
  a << 0.0;
  b << 1.0;
  EXPECT_NEAR(kernel(a, b), k01, 1e-12);
  // At a training point the posterior mean is the observation.
  double mean = 0, var = 0;
  gp.predict(a, mean, var);
  EXPECT_NEAR(mean, 1.0, 1e-4);
  EXPECT_LT(var, 1e-4);
  // Far away: the prior (mean of y, variance s2 * std(y)^2 = 2).
  Eigen::VectorXd far(1);
  far << 50.0;
  gp.predict(far, mean, var);
  EXPECT_NEAR(mean, 2.0, 1e-6);
  EXPECT_NEAR(var, 2.0, 1e-6);
  // Log marginal likelihood of the standardised data, by hand for a 2x2 kernel matrix.
  const double s = 1.0 / std::sqrt(2.0);
  const double d = 1.0 + 1e-5 + 1e-9;
  const double det = d * d - k01 * k01;
  const double quad = (d * (s * s + s * s) - 2.0 * k01 * (-s) * s) / det;
  const double lml = -0.5 * quad - 0.5 * std::log(det) - std::log(2.0 * M_PI);
  EXPECT_NEAR(gp.log_marginal_likelihood(kernel.theta()), lml, 1e-9);
}

TEST(GaussianProcess, ExpectedImprovementClosedForm) {
  EXPECT_NEAR(expected_improvement(0.0, 1.0, 0.0), 1.0 / std::sqrt(2.0 * M_PI), 1e-12);
  EXPECT_NEAR(expected_improvement(5.0, 1e-12, 0.0), 0.0, 1e-12);
  EXPECT_NEAR(expected_improvement(-2.0, 1e-12, 0.0), 2.0, 1e-6);
}

TEST(ParzenEstimator, IntegratesToTheBandwidthWeightedMassAndSamplesInside) {
  const ParzenEstimator p({0.2, 0.25, 0.8});
  // Optuna 3.1's log_pdf has no 1/sigma, so it integrates to sum_i w_i sigma_i.
  double integral = 0.0, expected = 0.0;
  const int n = 20000;
  for (int k = 0; k < n; ++k) integral += std::exp(p.log_pdf((k + 0.5) / n)) / n;
  for (std::size_t i = 0; i < p.sigmas.size(); ++i) expected += p.weights[i] * p.sigmas[i];
  EXPECT_NEAR(integral, expected, 1e-3 * expected);
  EXPECT_GT(p.log_pdf(0.22), p.log_pdf(0.5));
  core::Rng rng(1);
  for (int k = 0; k < 1000; ++k) {
    const double x = p.sample(rng);
    EXPECT_GE(x, 0.0);
    EXPECT_LE(x, 1.0);
  }
}

// Expected values from Optuna 3.1's _ParzenEstimator with TPESampler's defaults
// (consider_prior, prior_weight 1, magic clip, consider_endpoints=False) on the same points.
TEST(ParzenEstimator, MatchesOptunasBandwidthsAndDensities) {
  const ParzenEstimator p({0.3, 0.85, 0.36, 0.8, 0.45});
  const std::vector<double> sigmas = {1.0 / 7, 1.0 / 7, 1.0 / 7, 0.3, 1.0 / 7, 1.0};
  ASSERT_EQ(p.sigmas.size(), sigmas.size());
  for (std::size_t i = 0; i < sigmas.size(); ++i) EXPECT_NEAR(p.sigmas[i], sigmas[i], 1e-12) << i;
  for (const double w : p.weights) EXPECT_NEAR(w, 1.0 / 6, 1e-12);
  EXPECT_NEAR(p.log_pdf(0.05), -1.6974054589486436, 1e-9);
  EXPECT_NEAR(p.log_pdf(0.33), -0.9785141434346044, 1e-9);
  EXPECT_NEAR(p.log_pdf(0.97), -1.2500495014071578, 1e-9);

  // An integer in [1, 8] is 8 cells; Optuna's sigmas 1.6, 1.6, 2.5 and the prior's 8 are, on
  // the unit interval, 0.2, 0.2, 0.3125, 1; densities are the probabilities of the values.
  const auto cell = [](double v) { return (v - 0.5) / 8.0; };
  const ParzenEstimator q({cell(2), cell(3), cell(7)}, 8);
  EXPECT_NEAR(q.sigmas[0], 0.2, 1e-12);
  EXPECT_NEAR(q.sigmas[2], 0.3125, 1e-12);
  EXPECT_NEAR(q.log_pdf(cell(1)), -2.0804929034515, 1e-9);
  EXPECT_NEAR(q.log_pdf(cell(3)), -1.7475338454548586, 1e-9);
  EXPECT_NEAR(q.log_pdf(cell(8)), -2.5131331741764393, 1e-9);
  double total = 0.0;
  for (int v = 1; v <= 8; ++v) total += std::exp(q.log_pdf(cell(v)));
  EXPECT_NEAR(total, 1.0, 1e-9);

  // Categories a, b, c after seeing a, c, c.
  const CategoricalEstimator c({0, 2, 2}, 3);
  EXPECT_NEAR(c.log_pdf(0), -1.0986122886681096, 1e-12);
  EXPECT_NEAR(c.log_pdf(1), -1.6582280766035324, 1e-12);
  EXPECT_NEAR(c.log_pdf(2), -0.7419373447293772, 1e-12);
}

// Expected values from Optuna 3.1's _ParzenEstimator with multivariate=True (TPESampler's other
// defaults) over a float x in [0, 1], an integer k in [1, 8] and a categorical c of three, on the
// same twelve observations: one bandwidth 0.2 * 12^(-1/7) of the range in every numeric
// dimension, the prior keeping the whole range.
TEST(Tpe, MultivariateDensityMatchesOptuna) {
  const core::SearchSpace space = core::SearchSpace::from_yaml(
      YAML::Load("x: {type: float, low: 0, high: 1}\nk: {type: int, low: 1, high: 8}\nc: {type: categorical, choices: [a, b, c]}\n"),
      "t");
  const std::vector<double> x = {0.3, 0.85, 0.36, 0.8, 0.45, 0.12, 0.5, 0.66, 0.91, 0.2, 0.05, 0.4};
  const std::vector<int> k = {2, 3, 7, 1, 8, 4, 4, 5, 6, 2, 3, 3};
  const std::vector<int> c = {0, 2, 2, 1, 0, 0, 1, 2, 0, 1, 1, 2};
  const auto cell = [](double v) { return (v - 0.5) / 8.0; };
  const auto choice = [](int i) { return (i + 0.5) / 3.0; };
  std::vector<double> ku, cu;
  for (const int v : k) ku.push_back(cell(v));
  for (const int v : c) cu.push_back(choice(v));
  const double h = tpe_multivariate_bandwidth(12, 3);
  EXPECT_NEAR(h, 0.14023655878817212, 1e-15);
  std::vector<TpeDimensionModel> models;
  models.emplace_back(space.dims()[0], x, h);
  models.emplace_back(space.dims()[1], ku, h);
  models.emplace_back(space.dims()[2], cu, h);
  EXPECT_NEAR(models[0].weights()[0], 1.0 / 13, 1e-15);
  EXPECT_NEAR(tpe_joint_log_pdf(models, {0.05, cell(1), choice(0)}), -5.256565914124908, 1e-9);
  EXPECT_NEAR(tpe_joint_log_pdf(models, {0.33, cell(3), choice(1)}), -4.222609633587175, 1e-9);
  EXPECT_NEAR(tpe_joint_log_pdf(models, {0.97, cell(8), choice(2)}), -5.793902308442044, 1e-9);
  // Three observations: 0.2 * 3^(-1/7) = 0.171 is below the magic clip 1 / (1 + 4) = 0.2.
  const ParzenEstimator few({0.3, 0.85, 0.36}, 0, tpe_multivariate_bandwidth(3, 3));
  EXPECT_NEAR(few.sigmas[0], 0.2, 1e-15);
  EXPECT_EQ(few.sigmas[3], 1.0);
}

// Best Hartmann-6 value in `trials` evaluations of TPE with or without the joint model.
double best_hartmann6(bool multivariate, int trials, std::uint64_t seed) {
  std::string yaml;
  for (int d = 1; d <= 6; ++d) yaml += "x" + std::to_string(d) + ": {type: float, low: 0, high: 1}\n";
  const core::SearchSpace space = core::SearchSpace::from_yaml(YAML::Load(yaml), "t");
  ControllerOptions o;
  o.algorithm = "tpe";
  o.tpe_multivariate = multivariate;
  o.num_trials = trials;
  o.max_budget = 1;
  return best_found(o, space, [](const double* x) { return tasks::hartmann6(x); }, seed);
}

// Hartmann-6's dimensions interact; the joint model finds lower values than one estimator per
// dimension (over 100 seeds at 40 evaluations the medians were -2.80 and -2.54).
TEST(Tpe, MultivariateBeatsIndependentOnHartmann6) {
  std::vector<double> joint, independent;
  for (std::uint64_t seed = 1; seed <= 25; ++seed) {
    joint.push_back(best_hartmann6(true, 40, seed));
    independent.push_back(best_hartmann6(false, 40, seed));
  }
  std::sort(joint.begin(), joint.end());
  std::sort(independent.begin(), independent.end());
  EXPECT_LT(joint[12], independent[12]) << "medians over 25 seeds";
}

TEST(Tpe, GammaAndWeightsFollowOptuna) {
  EXPECT_EQ(tpe_gamma(10), 1u);
  EXPECT_EQ(tpe_gamma(11), 2u);
  EXPECT_EQ(tpe_gamma(400), 25u);
  // 30 observations: the oldest 5 ramp 1/30 .. 1 (with the prior, Optuna normalises the first
  // to 0.0011661807580174927).
  const std::vector<double> w = tpe_weights(30);
  EXPECT_NEAR(w[0], 1.0 / 30, 1e-12);
  EXPECT_NEAR(w[1], 1.0 / 30 + (1 - 1.0 / 30) / 4, 1e-12);
  EXPECT_EQ(w[4], 1.0);
  EXPECT_EQ(w[29], 1.0);
  std::vector<double> values(30, 0.5);
  EXPECT_NEAR(ParzenEstimator(values).weights[0], 0.0011661807580174927, 1e-15);
}

// Inside a multi-fidelity scheduler the model comes from one budget's results, not a pool: the
// cheap budget says "large x", the larger budget "small x"; proposals follow the larger.
TEST(Tpe, KeepsTheObservationsOfEachBudgetApart) {
  const core::SearchSpace space = core::SearchSpace::from_yaml(YAML::Load("x: {type: float, low: 0, high: 1}\n"), "t");
  TpeSearcher tpe(space, 10);
  // (the cheap budget's losses are also lower, so a pool would take its best as the good ones)
  for (int i = 0; i < 30; ++i) tpe.observe({core::Configuration{{(i + 0.5) / 30}}, 1, -(i + 0.5) / 30 - 10.0});
  for (int i = 0; i < 12; ++i) tpe.observe({core::Configuration{{(i + 0.5) / 12}}, 9, (i + 0.5) / 12});
  core::Rng rng(3);
  double mean = 0.0;
  for (int k = 0; k < 50; ++k) mean += tpe.propose(rng, 1).values[0] / 50;
  EXPECT_LT(mean, 0.35);
}

// With parallel > 1 the runner asks for a whole batch before any of it has a result. The GP's
// points must not coincide (without the constant liar they were one point four times).
TEST(GpBo, TheProposalsOfABatchAreDistinct) {
  const core::SearchSpace space = core::SearchSpace::from_yaml(YAML::Load(kBraninSpace), "t");
  ControllerOptions o;
  o.algorithm = "gp";
  o.num_trials = 20;
  o.max_budget = 1;
  auto c = make_controller(o, space, 4);
  for (int k = 0; k < 12; ++k) {
    const Suggestion s = c->suggest();
    c->on_result(s.job, tasks::branin(s.job.config.values[0], s.job.config.values[1]));
  }
  std::vector<std::vector<double>> batch;
  for (int k = 0; k < 4; ++k) batch.push_back(space.encode(c->suggest().job.config));
  double closest = 1e300;
  for (std::size_t a = 0; a < batch.size(); ++a) {
    for (std::size_t b = a + 1; b < batch.size(); ++b) {
      closest = std::min(closest, std::hypot(batch[a][0] - batch[b][0], batch[a][1] - batch[b][1]));
    }
  }
  EXPECT_GT(closest, 0.02) << "the closest two points of a batch, on the unit square";
}

// A proposal still training joins TPE's bad set, so l/g steers the batch away from it.
TEST(Tpe, PendingProposalsPushTheNextAway) {
  const core::SearchSpace space = core::SearchSpace::from_yaml(YAML::Load("x: {type: float, low: 0, high: 1}\n"), "t");
  const auto spread = [&](int pending) {
    TpeSearcher tpe(space, 10);
    for (int i = 0; i < 20; ++i) {
      const double x = (i + 0.5) / 20;
      tpe.observe({core::Configuration{{x}}, 1, std::abs(x - 0.2)});
    }
    for (int k = 0; k < pending; ++k) tpe.add_pending(core::Configuration{{0.2}}, 1);
    core::Rng rng(8);
    double distance = 0.0;
    for (int k = 0; k < 200; ++k) distance += std::abs(tpe.propose(rng, 1).values[0] - 0.2) / 200;
    return distance;
  };
  EXPECT_GT(spread(3), 1.5 * spread(0));
}

}  // namespace
}  // namespace graybox::controllers
