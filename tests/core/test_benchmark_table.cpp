// The benchmark's table against values worked out by hand: per-task and overall (min-max
// normalised) aggregates, the probability of improvement over the baseline and its significance,
// performance profiles, the budget check, and seeded intervals.
#include <gtest/gtest.h>

#include "core/benchmark_table.hpp"

namespace graybox::core {
namespace {

std::vector<BenchmarkRun> runs_of(const std::string& task, const std::string& method, const std::vector<double>& scores,
                                  std::int64_t spent) {
  std::vector<BenchmarkRun> out;
  for (std::size_t k = 0; k < scores.size(); ++k) out.push_back({task, method, static_cast<std::int64_t>(k + 1), scores[k], spent});
  return out;
}

BenchmarkOptions two_methods() {
  BenchmarkOptions o;
  o.methods = {"base", "new"};
  o.tasks = {"a"};
  o.baseline = "base";
  o.replicates = 500;
  return o;
}

const MethodRow& row(const BenchmarkTable& t, const std::string& scope, const std::string& method) {
  for (const auto& r : t.rows) {
    if (r.scope == scope && r.method == method) return r;
  }
  throw std::runtime_error("no row " + scope + " " + method);
}

TEST(BenchmarkTable, PerTaskAndOverallFiguresByHand) {
  auto runs = runs_of("a", "base", {1, 2, 3, 4}, 100);
  const auto more = runs_of("a", "new", {3, 4, 5, 6}, 110);
  runs.insert(runs.end(), more.begin(), more.end());
  const BenchmarkTable t = benchmark_table(runs, two_methods());
  const MethodRow& n = row(t, "a", "new");
  EXPECT_EQ(n.runs, 4);
  EXPECT_DOUBLE_EQ(n.mean.point, 4.5);
  EXPECT_DOUBLE_EQ(n.median.point, 4.5);
  EXPECT_DOUBLE_EQ(n.iqm.point, 4.5);  // mean of 4 and 5
  // P(new > base): x=3 beats 1, 2 and ties 3 (2.5); x=4: 3.5; x=5: 4; x=6: 4 -> 14 / 16.
  EXPECT_DOUBLE_EQ(n.improvement.point, 0.875);
  EXPECT_LE(n.improvement.low, 0.875);
  EXPECT_GE(n.improvement.high, 0.875);
  EXPECT_FALSE(row(t, "a", "base").has_improvement);
  EXPECT_DOUBLE_EQ(n.mean_spent, 110.0);
  // Overall: min-max over every run of the task (1..6): new -> 0.4, 0.6, 0.8, 1; IQM 0.7.
  EXPECT_DOUBLE_EQ(row(t, "overall", "new").iqm.point, 0.7);
  EXPECT_DOUBLE_EQ(row(t, "overall", "base").mean.point, (0.0 + 0.2 + 0.4 + 0.6) / 4);
}

TEST(BenchmarkTable, SignificanceIsWhetherTheIntervalExcludesOneHalf) {
  // Every run of "new" beats every run of "base": P = 1 in every replicate, significant.
  auto runs = runs_of("a", "base", {1, 2, 3, 4, 5}, 10);
  const auto more = runs_of("a", "new", {6, 7, 8, 9, 10}, 10);
  runs.insert(runs.end(), more.begin(), more.end());
  BenchmarkTable t = benchmark_table(runs, two_methods());
  EXPECT_DOUBLE_EQ(row(t, "a", "new").improvement.low, 1.0);
  EXPECT_EQ(BenchmarkTable::significance(row(t, "a", "new")), "better");
  // Lower is better: the same scores make "new" worse, surely.
  BenchmarkOptions o = two_methods();
  o.maximize = false;
  t = benchmark_table(runs, o);
  EXPECT_DOUBLE_EQ(row(t, "a", "new").improvement.high, 0.0);
  EXPECT_EQ(BenchmarkTable::significance(row(t, "a", "new")), "worse");
  // Overall, flipped: 1 - (v - 1) / 9 for v = 6..10 -> 4/9, 3/9, 2/9, 1/9, 0; mean 2/9.
  EXPECT_NEAR(row(t, "overall", "new").mean.point, 2.0 / 9.0, 1e-12);
}

TEST(BenchmarkTable, OverlappingRunsAreNotSignificant) {
  auto runs = runs_of("a", "base", {1, 5, 2, 6}, 10);
  const auto more = runs_of("a", "new", {2, 6, 1, 5}, 10);
  runs.insert(runs.end(), more.begin(), more.end());
  const BenchmarkTable t = benchmark_table(runs, two_methods());
  EXPECT_DOUBLE_EQ(row(t, "a", "new").improvement.point, 0.5);
  EXPECT_EQ(BenchmarkTable::significance(row(t, "a", "new")), "no");
}

TEST(BenchmarkTable, ProfilesBudgetCheckAndSeededIntervals) {
  auto runs = runs_of("a", "base", {0, 10}, 1000);
  const auto more = runs_of("a", "new", {5, 10}, 1200);
  runs.insert(runs.end(), more.begin(), more.end());
  BenchmarkOptions o = two_methods();
  o.profile_points = 3;  // taus 0, 5, 10
  o.budget = 1000;
  const BenchmarkTable t = benchmark_table(runs, o);
  ASSERT_EQ(t.profiles.size(), 4u);
  EXPECT_EQ(t.profiles[1].method, "new");
  EXPECT_EQ(t.profiles[1].taus, (std::vector<double>{0, 5, 10}));
  EXPECT_EQ(t.profiles[1].fractions, (std::vector<double>{1.0, 0.5, 0.0}));  // runs strictly above tau
  EXPECT_EQ(t.profiles[0].fractions, (std::vector<double>{0.5, 0.5, 0.0}));
  EXPECT_FALSE(row(t, "a", "base").budget_off);
  EXPECT_TRUE(row(t, "a", "new").budget_off);  // 20 % over, tolerance 10 %
  const BenchmarkTable again = benchmark_table(runs, o);
  EXPECT_EQ(benchmark_csv(again), benchmark_csv(t));
  EXPECT_NE(benchmark_markdown(t, o).find("| a | new | 2 | 7.5 ["), std::string::npos) << benchmark_markdown(t, o);
}

TEST(BenchmarkTable, AMethodMissingATaskStaysOutOfOverall) {
  auto runs = runs_of("a", "base", {1, 2}, 1);
  const auto b = runs_of("b", "base", {1, 2}, 1);
  const auto n = runs_of("a", "new", {3, 4}, 1);
  runs.insert(runs.end(), b.begin(), b.end());
  runs.insert(runs.end(), n.begin(), n.end());
  BenchmarkOptions o = two_methods();
  o.tasks = {"a", "b"};
  const BenchmarkTable t = benchmark_table(runs, o);
  EXPECT_NO_THROW(row(t, "a", "new"));
  EXPECT_THROW(row(t, "overall", "new"), std::runtime_error);
  EXPECT_NO_THROW(row(t, "overall", "base"));
}

}  // namespace
}  // namespace graybox::core
