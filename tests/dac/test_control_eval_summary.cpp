// The control eval's summary per method, on made-up test losses whose ranks, wins and
// probabilities of improvement are counted by hand.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "dac/control_eval.hpp"

namespace {

using namespace graybox::dac;

// 2 instances x 2 seeds per method, in eval_methods() order (policy, then the baselines).
std::vector<RunRecord> made_up_runs(const std::map<std::string, std::vector<double>>& losses) {
  std::vector<RunRecord> runs;
  for (const auto& method : eval_methods()) {
    const std::vector<double>& x = losses.at(method);  // instance 0 seeds 1, 2; instance 1 seeds 1, 2
    for (int i = 0; i < 2; ++i) {
      for (int k = 0; k < 2; ++k) {
        RunRecord r;
        r.method = method;
        r.instance = "i" + std::to_string(i);
        r.seed = k + 1;
        r.test_loss = x[static_cast<std::size_t>(2 * i + k)];
        r.test_accuracy = 0.5;
        runs.push_back(r);
      }
    }
  }
  return runs;
}

TEST(ControlEvalSummary, ProbabilityThatThePolicyIsBetterRanksAndWinsMatchTheirCountsByHand) {
  const std::map<std::string, std::vector<double>> losses = {
      {"policy", {1.0, 2.0, 3.0, 4.0}},   {"constant", {1.5, 2.5, 2.5, 5.0}}, {"step", {10, 10, 10, 10}},
      {"cosine", {0.1, 0.1, 0.1, 0.1}},   {"sgdr", {1.0, 2.0, 3.0, 4.0}},     {"warmup_cosine", {20, 20, 20, 20}},
      {"random", {30, 30, 30, 30}}};
  const std::vector<MethodSummary> s = summarize_methods(made_up_runs(losses), 2, 2, 1);
  ASSERT_EQ(s.size(), eval_methods().size());
  EXPECT_EQ(s[0].method, "policy");
  EXPECT_DOUBLE_EQ(s[0].policy_better, 0.0);

  // constant: instance 0, pairs (policy, constant) with the policy lower: (1, 1.5) (1, 2.5) (2, 2.5)
  // = 3 of 4; instance 1: (3, 5) (4, 5) = 2 of 4; mean 0.625. No instance mean below the policy's
  // (2.0 > 1.5, 3.75 > 3.5).
  EXPECT_EQ(s[1].method, "constant");
  EXPECT_DOUBLE_EQ(s[1].policy_better, 0.625);
  EXPECT_LE(s[1].policy_better_low, 0.625);
  EXPECT_GE(s[1].policy_better_high, 0.625);
  EXPECT_EQ(s[1].wins_against_policy, 0);
  EXPECT_DOUBLE_EQ(s[1].mean_loss, (1.5 + 2.5 + 2.5 + 5.0) / 4);

  // step loses every pair: probability 1 with no spread; cosine wins every pair and both instances.
  EXPECT_DOUBLE_EQ(s[2].policy_better, 1.0);
  EXPECT_DOUBLE_EQ(s[2].policy_better_low, 1.0);
  EXPECT_DOUBLE_EQ(s[2].policy_better_high, 1.0);
  EXPECT_DOUBLE_EQ(s[3].policy_better, 0.0);
  EXPECT_DOUBLE_EQ(s[3].policy_better_high, 0.0);
  EXPECT_EQ(s[3].wins_against_policy, 2);
  EXPECT_DOUBLE_EQ(s[3].average_rank, 1.0);  // the lowest loss of every (instance, seed)

  // sgdr equals the policy run for run: ties count a half. Within instance 0 the pairs are
  // (1,1) tie, (1,2) better, (2,1) worse, (2,2) tie: 0.5, and the same in instance 1.
  EXPECT_DOUBLE_EQ(s[4].policy_better, 0.5);
  EXPECT_EQ(s[4].wins_against_policy, 0);
  // Ranks of 7 at (instance 0, seed 1): cosine 0.1, then policy and sgdr tied at 1.0 (2.5 each),
  // constant 1.5 (4), step 10 (5), warmup_cosine 20 (6), random 30 (7).
  EXPECT_DOUBLE_EQ(s[6].average_rank, 7.0);
}

}  // namespace
