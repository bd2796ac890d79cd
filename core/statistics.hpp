// Statistics for comparing methods over tasks and seeds, as rliable (Agarwal et al. 2021,
// "Deep RL at the edge of the statistical precipice") recommends: point estimates (mean, median,
// interquartile mean), 95 % stratified bootstrap intervals, the probability of improvement of one
// method over another, and performance profiles.
//
// Scores are given per task: scores[task] holds one value per run (seed). An aggregate pools
// every run of every task (as rliable's aggregates over the runs x tasks matrix do). The
// bootstrap resamples runs with replacement within each task ("stratified": every replicate keeps
// each task's number of runs) from a seeded stream, so the same seed gives the same interval.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace graybox::core {

using TaskScores = std::vector<std::vector<double>>;  // [task][run]

double mean(const std::vector<double>& x);
double median(std::vector<double> x);
// The mean of the middle half: drops floor(n/4) values from each end of the sorted sample
// (scipy.stats.trim_mean(x, 0.25), what rliable calls IQM).
double interquartile_mean(std::vector<double> x);
// The q-quantile (0..1) with linear interpolation between order statistics (numpy's default).
double quantile(std::vector<double> x, double q);

struct Interval {
  double point = 0.0;  // the statistic on the data itself
  double low = 0.0, high = 0.0;
};

// The central `confidence` interval of bootstrap replicates (percentile method).
Interval percentile_interval(double point, const std::vector<double>& replicates, double confidence = 0.95);

using Aggregate = std::function<double(const std::vector<double>&)>;
// `aggregate` of the pooled runs of every task, with its stratified bootstrap interval.
Interval aggregate_interval(const TaskScores& scores, const Aggregate& aggregate, int replicates = 2000,
                            std::uint64_t seed = 0, double confidence = 0.95);

// P(X > Y) for a run X of `method` and a run Y of `baseline` on the same task (ties count a
// half: the Mann-Whitney U statistic over n*m), averaged over tasks. Both need the same tasks.
double probability_of_improvement(const TaskScores& method, const TaskScores& baseline);
// With its interval: both methods' runs resampled within each task, independently.
Interval probability_of_improvement_interval(const TaskScores& method, const TaskScores& baseline,
                                             int replicates = 2000, std::uint64_t seed = 0,
                                             double confidence = 0.95);

// The performance profile: for each threshold tau, the fraction of runs that score above tau,
// averaged over tasks (each task weighs the same).
std::vector<double> performance_profile(const TaskScores& scores, const std::vector<double>& taus);

}  // namespace graybox::core
