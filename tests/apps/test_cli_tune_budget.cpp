// graybox tune on an RL task counts its budget in whole rollouts: tune.budget_unit 0 (the
// default) is one rollout of the base config, and a trial whose budget ended before any episode
// did is reported as "no score", not as a made-up worst return.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/apps/cli.hpp"

namespace {

using namespace graybox_cli_test;

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(Cli, TuneBudgetUnitZeroIsOneRolloutOfTheBaseConfig) {
  write("base.yaml", "seed: 1\nenv: {id: InvertedPendulum-v5, num_envs: 2}\nagent: {num_steps: 64, num_minibatches: 2, update_epochs: 1}\n");
  const std::string tune = write("tune.yaml",
                                 "seed: 1\ntask: rl\nbase_config: base.yaml\n"
                                 "tune: {algorithm: random, num_trials: 2, max_budget: 3}\n"
                                 "search_space:\n  agent.learning_rate: {type: float, low: 1.0e-4, high: 1.0e-3, log: true}\n");
  const Result r = run("tune " + tune + " --quiet --out " + dir_ + "/run");
  ASSERT_EQ(r.code, 0) << r.output;
  // A unit is 64 steps x 2 envs: the best trial, retrained as one run, trains 3 x 128 steps.
  const std::string best = read_all(dir_ + "/run/best.yaml");
  EXPECT_NE(best.find("total_steps: 384"), std::string::npos) << best;
  const std::string history = read_all(dir_ + "/run/history.csv");
  EXPECT_EQ(history.find("no score"), std::string::npos) << history;
  EXPECT_NE(history.find(",ok,"), std::string::npos) << history;
}

TEST_F(Cli, TuneTrialThatFinishedNoEpisodeIsReportedAsNoScore) {
  // Reacher's episodes last 50 steps; a 16-step budget ends none.
  write("base.yaml", "seed: 1\nenv: {id: Reacher-v5}\nagent: {num_steps: 16, num_minibatches: 2, update_epochs: 1}\n");
  const std::string tune = write("tune.yaml",
                                 "seed: 1\ntask: rl\nbase_config: base.yaml\n"
                                 "tune: {algorithm: random, num_trials: 2, max_budget: 1}\n"
                                 "search_space:\n  agent.learning_rate: {type: float, low: 1.0e-4, high: 1.0e-3, log: true}\n");
  const Result r = run("tune " + tune + " --quiet --out " + dir_ + "/run");
  const std::string history = read_all(dir_ + "/run/history.csv");
  EXPECT_NE(history.find("no score: no training episode finished in 16 env steps"), std::string::npos)
      << r.output << history;
  EXPECT_EQ(history.find("-1e+09"), std::string::npos) << history;
  EXPECT_EQ(history.find("-1000000000"), std::string::npos) << history;
}

}  // namespace
