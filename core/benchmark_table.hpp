// The statistics of a benchmark (methods x tasks x seeds), per task and overall: mean, median and
// interquartile mean with 95 % stratified bootstrap intervals, the probability of improvement of
// every method over the baseline with its interval (significant when the interval excludes 0.5),
// performance profiles, and the budget each method spent. Built on core/statistics.
//
// Per task the scores are the raw ones. Overall, each task's scores are min-max normalised over
// every run of that task in the benchmark (0: the worst run, 1: the best; flipped when lower is
// better), so tasks of different scales pool; the probability of improvement needs no
// normalisation (it compares runs within a task).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/statistics.hpp"

namespace graybox::core {

struct BenchmarkRun {
  std::string task, method;
  std::int64_t seed = 0;
  double score = 0.0;
  std::int64_t spent = 0;  // steps actually trained
};

struct BenchmarkOptions {
  std::vector<std::string> methods, tasks;  // in the order of the tables
  std::string baseline;
  bool maximize = true;
  int replicates = 2000;
  std::uint64_t seed = 0;
  std::int64_t budget = 0;  // 0: no budget check
  double budget_tolerance = 0.1;
  int profile_points = 21;
};

struct MethodRow {
  std::string scope;  // a task's name, or "overall"
  std::string method;
  int runs = 0;
  Interval mean, median, iqm;
  bool has_improvement = false;  // false for the baseline itself
  Interval improvement;          // P(method > baseline)
  double mean_spent = 0.0;       // per cell, steps actually trained
  bool budget_off = false;       // mean_spent more than budget_tolerance away from budget
};

struct Profile {
  std::string scope, method;
  std::vector<double> taus, fractions;
};

struct BenchmarkTable {
  std::vector<MethodRow> rows;  // per task (in order), then overall
  std::vector<Profile> profiles;
  // "better", "worse" or "no": whether P(method > baseline)'s interval excludes 0.5.
  static std::string significance(const MethodRow& row);
};

// Tasks with no run, or methods without a run on some task, are left out of the scopes that
// need them (a method must have a run on every task to enter "overall").
BenchmarkTable benchmark_table(const std::vector<BenchmarkRun>& runs, const BenchmarkOptions& options);

std::string benchmark_markdown(const BenchmarkTable& table, const BenchmarkOptions& options);
std::string benchmark_csv(const BenchmarkTable& table);
std::string profiles_csv(const BenchmarkTable& table);

}  // namespace graybox::core
