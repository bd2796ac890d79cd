#include "core/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "core/rng.hpp"

namespace graybox::core {
namespace {

void require_runs(const TaskScores& scores, const char* what) {
  if (scores.empty()) throw std::invalid_argument(std::string(what) + ": no tasks");
  for (const auto& task : scores) {
    if (task.empty()) throw std::invalid_argument(std::string(what) + ": a task with no runs");
  }
}

std::vector<double> pooled(const TaskScores& scores) {
  std::vector<double> all;
  for (const auto& task : scores) all.insert(all.end(), task.begin(), task.end());
  return all;
}

// One stratified replicate: each task's runs drawn with replacement, as many as it has.
TaskScores resample(const TaskScores& scores, Rng& rng) {
  TaskScores out(scores.size());
  for (std::size_t t = 0; t < scores.size(); ++t) {
    out[t].resize(scores[t].size());
    for (auto& v : out[t]) v = scores[t][rng.below(scores[t].size())];
  }
  return out;
}

}  // namespace

double mean(const std::vector<double>& x) {
  if (x.empty()) throw std::invalid_argument("mean of no values");
  return std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
}

double quantile(std::vector<double> x, double q) {
  if (x.empty()) throw std::invalid_argument("quantile of no values");
  std::sort(x.begin(), x.end());
  const double pos = q * static_cast<double>(x.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, x.size() - 1);
  return x[lo] + (pos - static_cast<double>(lo)) * (x[hi] - x[lo]);
}

double median(std::vector<double> x) { return quantile(std::move(x), 0.5); }

double interquartile_mean(std::vector<double> x) {
  if (x.empty()) throw std::invalid_argument("interquartile mean of no values");
  std::sort(x.begin(), x.end());
  const std::size_t cut = x.size() / 4;
  return mean(std::vector<double>(x.begin() + static_cast<std::ptrdiff_t>(cut),
                                  x.end() - static_cast<std::ptrdiff_t>(cut)));
}

Interval percentile_interval(double point, const std::vector<double>& replicates, double confidence) {
  const double tail = (1.0 - confidence) / 2.0;
  return {point, quantile(replicates, tail), quantile(replicates, 1.0 - tail)};
}

Interval aggregate_interval(const TaskScores& scores, const Aggregate& aggregate, int replicates, std::uint64_t seed,
                            double confidence) {
  require_runs(scores, "aggregate_interval");
  Rng rng(seed);
  std::vector<double> values(static_cast<std::size_t>(std::max(1, replicates)));
  for (auto& v : values) v = aggregate(pooled(resample(scores, rng)));
  return percentile_interval(aggregate(pooled(scores)), values, confidence);
}

double probability_of_improvement(const TaskScores& method, const TaskScores& baseline) {
  require_runs(method, "probability_of_improvement");
  require_runs(baseline, "probability_of_improvement");
  if (method.size() != baseline.size()) throw std::invalid_argument("probability_of_improvement: different tasks");
  double sum = 0.0;
  for (std::size_t t = 0; t < method.size(); ++t) {
    double wins = 0.0;
    for (const double x : method[t]) {
      for (const double y : baseline[t]) wins += x > y ? 1.0 : x == y ? 0.5 : 0.0;
    }
    sum += wins / static_cast<double>(method[t].size() * baseline[t].size());
  }
  return sum / static_cast<double>(method.size());
}

Interval probability_of_improvement_interval(const TaskScores& method, const TaskScores& baseline, int replicates,
                                             std::uint64_t seed, double confidence) {
  const double point = probability_of_improvement(method, baseline);
  Rng rng(seed);
  std::vector<double> values(static_cast<std::size_t>(std::max(1, replicates)));
  for (auto& v : values) {
    const TaskScores x = resample(method, rng);
    v = probability_of_improvement(x, resample(baseline, rng));
  }
  return percentile_interval(point, values, confidence);
}

std::vector<double> performance_profile(const TaskScores& scores, const std::vector<double>& taus) {
  require_runs(scores, "performance_profile");
  std::vector<double> profile;
  for (const double tau : taus) {
    double sum = 0.0;
    for (const auto& task : scores) {
      const auto above = std::count_if(task.begin(), task.end(), [tau](double v) { return v > tau; });
      sum += static_cast<double>(above) / static_cast<double>(task.size());
    }
    profile.push_back(sum / static_cast<double>(scores.size()));
  }
  return profile;
}

}  // namespace graybox::core
