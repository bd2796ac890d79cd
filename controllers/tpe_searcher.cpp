#include "controllers/tpe_searcher.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "core/normal.hpp"

namespace graybox::controllers {
namespace {

double log_sum_exp(const std::vector<double>& v) {
  const double m = *std::max_element(v.begin(), v.end());
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (const double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

// P(a <= Z <= b) for a standard normal Z, from the tail that keeps precision.
double gauss_mass(double a, double b) {
  if (a >= 0.0) return 0.5 * (std::erfc(a / std::sqrt(2.0)) - std::erfc(b / std::sqrt(2.0)));
  return 0.5 * (std::erfc(-b / std::sqrt(2.0)) - std::erfc(-a / std::sqrt(2.0)));
}

// The observations' weights (tpe_weights) with the prior's weight 1 last, summing to 1.
std::vector<double> mixture_weights(std::size_t n) {
  std::vector<double> w = tpe_weights(n);
  w.push_back(1.0);
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  for (auto& x : w) x /= total;
  return w;
}

std::size_t draw(const std::vector<double>& probabilities, core::Rng& rng) {
  double u = rng.uniform();
  std::size_t i = 0;
  while (i + 1 < probabilities.size() && u >= probabilities[i]) u -= probabilities[i++];
  return i;
}

}  // namespace

std::size_t tpe_gamma(std::size_t n) {
  return std::min<std::size_t>(static_cast<std::size_t>(std::ceil(0.1 * static_cast<double>(n))), 25);
}

std::vector<double> tpe_weights(std::size_t n) {
  std::vector<double> w(n, 1.0);
  if (n > 25) {
    // The oldest n - 25 ramp linearly from 1/n to 1 (numpy's linspace, endpoints included).
    const std::size_t ramp = n - 25;
    const double lo = 1.0 / static_cast<double>(n);
    for (std::size_t i = 0; i < ramp; ++i) {
      w[i] = ramp == 1 ? lo : lo + (1.0 - lo) * static_cast<double>(i) / static_cast<double>(ramp - 1);
    }
  }
  return w;
}

double tpe_multivariate_bandwidth(std::size_t n, std::size_t d) {
  return 0.2 * std::pow(static_cast<double>(std::max<std::size_t>(n, 1)), -1.0 / (static_cast<double>(d) + 4.0));
}

ParzenEstimator::ParzenEstimator(const std::vector<double>& values, std::size_t cells_, double bandwidth)
    : cells(cells_) {
  mus = values;
  mus.push_back(0.5);  // the prior component
  weights = mixture_weights(values.size());
  const std::size_t m = mus.size();
  std::vector<std::size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return mus[a] < mus[b]; });
  // Sorted centres between the bounds 0 and 1; a centre's bandwidth is the larger gap to its
  // neighbours, except that the lowest and the highest (consider_endpoints=False) take the gap
  // to their one inner neighbour.
  std::vector<double> e(m + 2);
  e[0] = 0.0;
  e[m + 1] = 1.0;
  for (std::size_t k = 0; k < m; ++k) e[k + 1] = mus[order[k]];
  std::vector<double> sorted_sigma(m);
  for (std::size_t k = 0; k < m; ++k) sorted_sigma[k] = std::max(e[k + 1] - e[k], e[k + 2] - e[k + 1]);
  if (m >= 2) {
    sorted_sigma[0] = e[2] - e[1];
    sorted_sigma[m - 1] = e[m] - e[m - 1];
  }
  if (bandwidth > 0.0) std::fill(sorted_sigma.begin(), sorted_sigma.end(), bandwidth);
  // Optuna's magic clip: at least 1 / min(100, 1 + m) of the range, at most the range.
  const double min_sigma = 1.0 / std::min(100.0, 1.0 + static_cast<double>(m));
  sigmas.assign(m, 1.0);
  for (std::size_t k = 0; k < m; ++k) sigmas[order[k]] = std::clamp(sorted_sigma[k], min_sigma, 1.0);
  sigmas[m - 1] = 1.0;  // the prior
}

void ParzenEstimator::component_terms(std::size_t i, double x, double& log_density, double& log_accept) const {
  const double s = sigmas[i];
  log_accept = std::log(gauss_mass((0.0 - mus[i]) / s, (1.0 - mus[i]) / s));
  if (cells > 0) {
    const double half = 0.5 / static_cast<double>(cells);
    const double lo = std::max(x - half, 0.0), hi = std::min(x + half, 1.0);
    log_density = std::log(gauss_mass((lo - mus[i]) / s, (hi - mus[i]) / s));
  } else {
    log_density = core::normal_log_pdf((x - mus[i]) / s);  // Optuna 3.1: no -log(s) term
  }
}

double ParzenEstimator::log_pdf(double x) const {
  std::vector<double> terms(mus.size());
  for (std::size_t i = 0; i < mus.size(); ++i) {
    double log_density = 0.0, log_accept = 0.0;
    component_terms(i, x, log_density, log_accept);
    terms[i] = std::log(weights[i]) + log_density - log_accept;
  }
  return log_sum_exp(terms);
}

double ParzenEstimator::log_component_pdf(std::size_t i, double x) const {
  double log_density = 0.0, log_accept = 0.0;
  component_terms(i, x, log_density, log_accept);
  return log_density - log_accept;
}

double ParzenEstimator::sample(core::Rng& rng) const { return sample_component(draw(weights, rng), rng); }

double ParzenEstimator::sample_component(std::size_t i, core::Rng& rng) const {
  double x = std::clamp(mus[i], 0.0, 1.0);
  for (int attempt = 0; attempt < 1000; ++attempt) {  // the truncated Gaussian by rejection
    const double v = rng.normal(mus[i], sigmas[i]);
    if (v >= 0.0 && v <= 1.0) {
      x = v;
      break;
    }
  }
  if (cells == 0) return x;
  const double k = std::min(std::floor(x * static_cast<double>(cells)), static_cast<double>(cells - 1));
  return (k + 0.5) / static_cast<double>(cells);
}

CategoricalEstimator::CategoricalEstimator(const std::vector<std::size_t>& choices_seen, std::size_t choices) {
  const std::size_t n = choices_seen.size();
  const double spread = 1.0 / static_cast<double>(n + 1);  // prior_weight / (n + 1)
  for (std::size_t k = 0; k <= n; ++k) {
    std::vector<double> row(choices, spread);
    if (k < n) row[choices_seen[k]] += 1.0;
    const double total = std::accumulate(row.begin(), row.end(), 0.0);
    for (auto& p : row) p /= total;
    rows.push_back(row);
  }
  weights = mixture_weights(n);
}

double CategoricalEstimator::log_pdf(std::size_t choice) const {
  double p = 0.0;
  for (std::size_t k = 0; k < rows.size(); ++k) p += weights[k] * rows[k][choice];
  return std::log(p);
}

std::size_t CategoricalEstimator::sample(core::Rng& rng) const { return draw(rows[draw(weights, rng)], rng); }

TpeDimensionModel::TpeDimensionModel(const core::Dimension& dimension, const std::vector<double>& values,
                                     double bandwidth) {
  if (dimension.type == core::DimensionType::kCategorical) {
    choices_ = dimension.choices.size();
    std::vector<std::size_t> seen;
    for (const double u : values) seen.push_back(choice(u));
    categorical_.emplace_back(seen, choices_);
  } else {
    const bool discrete = dimension.type == core::DimensionType::kInt && !dimension.log;
    const std::size_t cells = discrete ? static_cast<std::size_t>(dimension.high - dimension.low) + 1 : 0;
    numeric_.emplace_back(values, cells, bandwidth);
  }
}

std::size_t TpeDimensionModel::choice(double u) const {
  return std::min(choices_ - 1, static_cast<std::size_t>(u * static_cast<double>(choices_)));
}

const std::vector<double>& TpeDimensionModel::weights() const {
  return choices_ > 0 ? categorical_[0].weights : numeric_[0].weights;
}

double TpeDimensionModel::log_pdf(double u) const {
  return choices_ > 0 ? categorical_[0].log_pdf(choice(u)) : numeric_[0].log_pdf(u);
}

double TpeDimensionModel::sample(core::Rng& rng) const {
  if (choices_ == 0) return numeric_[0].sample(rng);
  return (static_cast<double>(categorical_[0].sample(rng)) + 0.5) / static_cast<double>(choices_);
}

double TpeDimensionModel::log_component_pdf(std::size_t i, double u) const {
  return choices_ > 0 ? std::log(categorical_[0].rows[i][choice(u)]) : numeric_[0].log_component_pdf(i, u);
}

double TpeDimensionModel::sample_component(std::size_t i, core::Rng& rng) const {
  if (choices_ == 0) return numeric_[0].sample_component(i, rng);
  return (static_cast<double>(draw(categorical_[0].rows[i], rng)) + 0.5) / static_cast<double>(choices_);
}

double tpe_joint_log_pdf(const std::vector<TpeDimensionModel>& models, const std::vector<double>& x) {
  const std::vector<double>& w = models.at(0).weights();
  std::vector<double> terms(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    terms[i] = std::log(w[i]);
    for (std::size_t d = 0; d < models.size(); ++d) terms[i] += models[d].log_component_pdf(i, x[d]);
  }
  return log_sum_exp(terms);
}

TpeSearcher::TpeSearcher(const core::SearchSpace& space, int startup_trials, bool multivariate)
    : Searcher(space), startup_(startup_trials > 0 ? startup_trials : kStartupTrials), multivariate_(multivariate) {}

core::Configuration TpeSearcher::propose(core::Rng& rng, std::int64_t) {
  // The largest budget with enough finished trials for a model; its observations only.
  std::map<std::int64_t, std::vector<const Observation*>> by_budget;
  for (const auto& o : observations_) by_budget[o.budget].push_back(&o);
  const std::vector<const Observation*>* data = nullptr;
  for (auto it = by_budget.rbegin(); it != by_budget.rend(); ++it) {
    if (static_cast<int>(it->second.size()) >= startup_) {
      data = &it->second;
      break;
    }
  }
  if (!data) return space_.sample(rng);

  // The best gamma(n) (ties: the earlier) against the rest, each in the order observed.
  const std::size_t n = data->size();
  std::vector<std::size_t> by_loss(n);
  std::iota(by_loss.begin(), by_loss.end(), 0);
  std::stable_sort(by_loss.begin(), by_loss.end(),
                   [&](std::size_t a, std::size_t b) { return (*data)[a]->loss < (*data)[b]->loss; });
  std::vector<bool> good(n, false);
  for (std::size_t k = 0; k < tpe_gamma(n); ++k) good[by_loss[k]] = true;
  std::vector<std::vector<double>> encoded(n);
  for (std::size_t i = 0; i < n; ++i) encoded[i] = space_.encode((*data)[i]->config);
  // Optuna's constant liar: proposals still training count among the bad (as the worst loss).
  std::vector<std::vector<double>> pending_encoded;
  for (const auto& p : pending_) pending_encoded.push_back(space_.encode(p.config));

  // A dimension's values where it was active, good and bad (the pending among the bad).
  const auto values_of = [&](std::size_t d, std::vector<double>& below, std::vector<double>& above) {
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isnan((*data)[i]->config.values[d])) (good[i] ? below : above).push_back(encoded[i][d]);
    }
    for (std::size_t k = 0; k < pending_.size(); ++k) {
      if (!std::isnan(pending_[k].config.values[d])) above.push_back(pending_encoded[k][d]);
    }
  };

  // Multivariate: the dimensions active in every trial (Optuna's intersection search space).
  std::vector<std::size_t> joint;
  if (multivariate_) {
    for (std::size_t d = 0; d < space_.size(); ++d) {
      if (space_.dims()[d].type == core::DimensionType::kFixed) continue;
      bool always = true;
      for (std::size_t i = 0; i < n && always; ++i) always = !std::isnan((*data)[i]->config.values[d]);
      for (const auto& p : pending_) always = always && !std::isnan(p.config.values[d]);
      if (always) joint.push_back(d);
    }
  }

  std::vector<double> u(space_.size(), 0.5);
  if (!joint.empty()) {
    std::vector<TpeDimensionModel> l, g;
    for (const std::size_t d : joint) {
      std::vector<double> below, above;
      values_of(d, below, above);
      l.emplace_back(space_.dims()[d], below, tpe_multivariate_bandwidth(below.size(), joint.size()));
      g.emplace_back(space_.dims()[d], above, tpe_multivariate_bandwidth(above.size(), joint.size()));
    }
    double best_score = -INFINITY;
    std::vector<double> x(joint.size());
    for (int c = 0; c < kCandidates; ++c) {
      const std::size_t component = draw(l[0].weights(), rng);
      for (std::size_t j = 0; j < joint.size(); ++j) x[j] = l[j].sample_component(component, rng);
      const double score = tpe_joint_log_pdf(l, x) - tpe_joint_log_pdf(g, x);
      if (score > best_score) {
        best_score = score;
        for (std::size_t j = 0; j < joint.size(); ++j) u[joint[j]] = x[j];
      }
    }
  }
  for (std::size_t d = 0; d < space_.size(); ++d) {
    if (space_.dims()[d].type == core::DimensionType::kFixed) continue;
    if (std::find(joint.begin(), joint.end(), d) != joint.end()) continue;
    std::vector<double> below, above;
    values_of(d, below, above);
    const TpeDimensionModel l(space_.dims()[d], below), g(space_.dims()[d], above);
    double best_score = -INFINITY;
    for (int c = 0; c < kCandidates; ++c) {
      const double x = l.sample(rng);
      const double score = l.log_pdf(x) - g.log_pdf(x);
      if (score > best_score) best_score = score, u[d] = x;
    }
  }
  return space_.decode(u);
}

}  // namespace graybox::controllers
