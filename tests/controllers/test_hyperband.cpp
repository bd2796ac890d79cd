#include "controllers/hyperband.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "controllers/controller.hpp"
#include "core/yaml.hpp"

namespace graybox::controllers {
namespace {

TEST(Hyperband, BracketsMatchTheFormulas) {
  // R = 81, eta = 3: the table of Li et al. (2018).
  const auto brackets = hyperband_brackets(81, 1, 3);
  ASSERT_EQ(brackets.size(), 5u);
  const std::vector<std::vector<std::pair<long, long>>> expected = {
      {{81, 1}, {27, 3}, {9, 9}, {3, 27}, {1, 81}},
      {{34, 3}, {11, 9}, {3, 27}, {1, 81}},
      {{15, 9}, {5, 27}, {1, 81}},
      {{8, 27}, {2, 81}},
      {{5, 81}},
  };
  for (std::size_t b = 0; b < expected.size(); ++b) {
    ASSERT_EQ(brackets[b].size(), expected[b].size()) << "bracket " << b;
    for (std::size_t r = 0; r < expected[b].size(); ++r) {
      EXPECT_EQ(brackets[b][r].num_configs, expected[b][r].first) << b << "," << r;
      EXPECT_EQ(brackets[b][r].budget, expected[b][r].second) << b << "," << r;
    }
  }
  EXPECT_EQ(hyperband_s_max(81, 1, 3), 4);
  EXPECT_EQ(hyperband_s_max(100, 1, 3), 4);
  EXPECT_EQ(hyperband_s_max(9, 1, 3), 2);
  EXPECT_EQ(hyperband_s_max(1, 1, 3), 0);
}

// Drives a controller with a fixed loss function and returns the jobs it issued.
std::vector<Job> drive(Controller& c, const std::function<double(const Job&)>& loss) {
  std::vector<Job> jobs;
  for (;;) {
    const Suggestion s = c.suggest();
    if (s.kind == Suggestion::Kind::kDone) return jobs;
    if (s.kind == Suggestion::Kind::kWait) {
      ADD_FAILURE() << "waiting with nothing outstanding";
      return jobs;
    }
    jobs.push_back(s.job);
    c.on_result(s.job, loss(s.job));
  }
}

core::SearchSpace unit_space() {
  return core::SearchSpace::from_yaml(YAML::Load("x: {type: float, low: 0, high: 1}\n"), "t");
}

// The plan a progress line shows is the number of trials the controller really starts.
TEST(Controllers, PlannedTrialsAreTheTrialsStarted) {
  const core::SearchSpace space = unit_space();
  for (const std::string algorithm : {"random", "grid", "tpe", "sha", "hyperband", "bohb", "asha"}) {
    ControllerOptions o;
    o.algorithm = algorithm;
    o.num_trials = 11;
    o.grid_points = 7;
    o.max_budget = 27;
    o.eta = 3;
    o.iterations = 2;
    auto c = make_controller(o, space, 5);
    std::set<int> started;
    for (const Job& job : drive(*c, [](const Job& j) { return j.config.values[0]; })) started.insert(job.trial);
    EXPECT_EQ(c->planned_trials(), static_cast<int>(started.size())) << algorithm;
  }
  ControllerOptions o;
  o.algorithm = "hyperband";
  o.max_budget = 81;
  o.eta = 3;
  EXPECT_EQ(make_controller(o, space, 5)->planned_trials(), 81 + 34 + 15 + 8 + 5);  // Li et al.'s table
}

TEST(Hyperband, ControllerSpendsTheBracketBudgets) {
  const core::SearchSpace space = unit_space();
  for (const std::string algorithm : {"hyperband", "bohb"}) {
    ControllerOptions o;
    o.algorithm = algorithm;
    o.max_budget = 27;
    o.eta = 3;
    auto c = make_controller(o, space, 1);
    const auto jobs = drive(*c, [](const Job& j) { return j.config.values[0]; });
    // Count jobs per (bracket-free) budget: brackets for R=27: s=3: 27@1, 9@3, 3@9, 1@27;
    // s=2: 12@3, 4@9, 1@27; s=1: 6@9, 2@27; s=0: 4@27.
    std::map<long, int> per_budget;
    for (const auto& j : jobs) ++per_budget[j.budget];
    EXPECT_EQ(per_budget[1], 27) << algorithm;
    EXPECT_EQ(per_budget[3], 9 + 12) << algorithm;
    EXPECT_EQ(per_budget[9], 3 + 4 + 6) << algorithm;
    EXPECT_EQ(per_budget[27], 1 + 1 + 2 + 4) << algorithm;
    // New configurations: 27 + 12 + 6 + 4.
    int max_trial = 0;
    for (const auto& j : jobs) max_trial = std::max(max_trial, j.trial);
    EXPECT_EQ(max_trial + 1, 49) << algorithm;
  }
}

TEST(Hyperband, PromotesTheBestOfEachRung) {
  const core::SearchSpace space = unit_space();
  ControllerOptions o;
  o.algorithm = "sha";
  o.max_budget = 9;
  o.eta = 3;
  auto c = make_controller(o, space, 2);
  const auto jobs = drive(*c, [](const Job& j) { return j.config.values[0]; });
  // SHA with R = 9: 9 configs at 1, the best 3 at 3, the best 1 at 9.
  ASSERT_EQ(jobs.size(), 13u);
  std::vector<std::pair<double, int>> first;
  for (std::size_t k = 0; k < 9; ++k) first.emplace_back(jobs[k].config.values[0], jobs[k].trial);
  std::sort(first.begin(), first.end());
  std::vector<int> promoted;
  for (std::size_t k = 9; k < 12; ++k) promoted.push_back(jobs[k].trial);
  std::sort(promoted.begin(), promoted.end());
  std::vector<int> best3 = {first[0].second, first[1].second, first[2].second};
  std::sort(best3.begin(), best3.end());
  EXPECT_EQ(promoted, best3);
  EXPECT_EQ(jobs[12].trial, first[0].second);
  EXPECT_EQ(jobs[12].budget, 9);
}

TEST(Asha, PromotesOnlyTheTopFractionOfARung) {
  const core::SearchSpace space = unit_space();
  ControllerOptions o;
  o.algorithm = "asha";
  o.max_budget = 16;
  o.min_budget = 1;
  o.reduction_factor = 4;
  o.num_trials = 32;
  auto c = make_controller(o, space, 3);
  // Replay the decisions: every promotion from a rung must be of a trial whose loss is among
  // the best floor(n / 4) of the n losses recorded at that rung when it was promoted.
  std::map<long, std::vector<std::pair<double, int>>> rungs;
  std::map<long, int> per_budget;
  const std::map<long, long> previous = {{4, 1}, {16, 4}};
  for (;;) {
    const Suggestion s = c->suggest();
    if (s.kind == Suggestion::Kind::kDone) break;
    ASSERT_EQ(s.kind, Suggestion::Kind::kJob);
    const Job& j = s.job;
    ++per_budget[j.budget];
    if (j.budget > 1) {
      auto rung = rungs[previous.at(j.budget)];
      std::sort(rung.begin(), rung.end());
      const std::size_t top = rung.size() / 4;
      ASSERT_GT(top, 0u);
      bool found = false;
      for (std::size_t k = 0; k < top; ++k) found |= rung[k].second == j.trial;
      EXPECT_TRUE(found) << "trial " << j.trial << " promoted to " << j.budget;
    }
    const double loss = j.config.values[0];
    rungs[j.budget].emplace_back(loss, j.trial);
    c->on_result(j, loss);
  }
  EXPECT_EQ(per_budget[1], 32);
  EXPECT_GE(per_budget[4], 8);  // 32 results at rung 1 allow at least 8 promotions
  EXPECT_GE(per_budget[16], 1);
}

TEST(Controllers, StateRoundTripContinuesIdentically) {
  const core::SearchSpace space = unit_space();
  for (const std::string algorithm : {"random", "gp", "tpe", "hyperband", "bohb", "asha", "grid"}) {
    ControllerOptions o;
    o.algorithm = algorithm;
    o.num_trials = 14;
    o.max_budget = 9;
    const auto loss = [](const Job& j) { return std::pow(j.config.values[0] - 0.3, 2) + 1.0 / j.budget; };
    auto straight = make_controller(o, space, 5);
    const auto all = drive(*straight, loss);
    // Stop after 7 jobs, save, restore into a fresh controller, continue.
    auto first = make_controller(o, space, 5);
    std::vector<Job> jobs;
    const std::size_t stop = std::min<std::size_t>(7, all.size() / 2);
    for (std::size_t k = 0; k < stop; ++k) {
      const Suggestion s = first->suggest();
      ASSERT_EQ(s.kind, Suggestion::Kind::kJob);
      jobs.push_back(s.job);
      first->on_result(s.job, loss(s.job));
    }
    auto second = make_controller(o, space, 5);
    second->load_state(nlohmann::json::parse(first->state().dump()));
    const auto rest = drive(*second, loss);
    jobs.insert(jobs.end(), rest.begin(), rest.end());
    ASSERT_EQ(jobs.size(), all.size()) << algorithm;
    for (std::size_t k = 0; k < jobs.size(); ++k) {
      EXPECT_EQ(jobs[k].trial, all[k].trial) << algorithm;
      EXPECT_EQ(jobs[k].budget, all[k].budget) << algorithm;
      EXPECT_TRUE(jobs[k].config == all[k].config) << algorithm << " job " << k;
    }
  }
}

}  // namespace
}  // namespace graybox::controllers
