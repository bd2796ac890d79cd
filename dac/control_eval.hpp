// Evaluation of a meta-trained controller on the held-out test instances (`graybox control
// eval`): the policy and the baselines (dac/baselines.hpp) each run every test instance with
// `seeds` run seeds (the same seeds for every method); the baselines' factors are tuned on the
// training instances first. A crashed run (non-finite loss) scores the loss of a uniform guess,
// ln C, and accuracy 1/C. Runs go side by side on TBB; the numbers do not depend on the
// thread count.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agents/ppo_policy.hpp"
#include "dac/baselines.hpp"
#include "dac/control_loop.hpp"
#include "dac/instance.hpp"

namespace graybox::dac {

struct ControlEvalOptions {
  std::vector<Instance> train, test;
  int seeds = 3;
  TuneBudget tune;
  std::uint64_t seed = 1;
  int num_threads = 1;  // 0: all cores
  std::string baselines_file;  // "": tune and run the baselines; else dac/baseline_file.hpp
  // What random control acts through: the eval config's dac keys, not the policy's options, so
  // that one baselines file serves policies trained with other action modes or bounds.
  ControlOptions random_control;
};

struct RunRecord {
  std::string method, instance;
  int seed = 0;
  double test_loss = 0, test_accuracy = 0;
  bool crashed = false;
  std::int64_t minibatches = 0;
  double seconds = 0;
};

struct MethodSummary {
  std::string method;
  double mean_loss = 0, loss_low = 0, loss_high = 0;  // mean over instances of the seeds' mean, 95 % interval
  double mean_accuracy = 0;
  double average_rank = 0;  // over (instance, seed), 1 = best test loss
  int wins_against_policy = 0;  // instances where this method's mean test loss beats the policy's
  // P(a policy run ends with a lower test loss than a run of this method on the same instance),
  // averaged over instances (rliable's probability of improvement), and its 95 % stratified
  // bootstrap interval; 0 for the policy itself.
  double policy_better = 0, policy_better_low = 0, policy_better_high = 0;
};

struct ControlEvalReport {
  std::vector<RunRecord> runs;                                   // method, instance, seed order
  std::map<std::string, std::map<std::string, TunedFactors>> tuned;  // [baseline][sgd|adamw]
  std::int64_t tuning_minibatches = 0;
  double tuning_seconds = 0;
  std::vector<MethodSummary> methods;  // policy first, then baseline_names()
  std::string baselines_from;          // the baselines file the baselines were read from, if any
  // What an eval that continued an incomplete baselines file found recorded in it.
  std::size_t recorded_trials = 0, recorded_runs = 0;
};

// The methods: "policy" then the baselines.
std::vector<std::string> eval_methods();

// `policy_control`: the options the policy was trained with (its policy.pt carries them).
ControlEvalReport run_control_eval(const ControlEvalOptions& options, const agents::PpoPolicy& policy,
                                   const ControlOptions& policy_control);

// The summary per method (eval_methods() order) of runs in method, instance, seed order;
// `seed` seeds the bootstrap intervals.
std::vector<MethodSummary> summarize_methods(const std::vector<RunRecord>& runs, std::size_t instances, int seeds,
                                             std::uint64_t seed);

// The per-instance table, the summary per method and the costs, as text.
std::string format_control_eval(const ControlEvalReport& report, const std::vector<Instance>& test);
// One row per run: method,instance,seed,test_loss,test_accuracy,crashed,minibatches,seconds.
void write_control_eval_csv(const ControlEvalReport& report, const std::string& path);

}  // namespace graybox::dac
