// SAC's and TD3's keys reach the agent through every way a controller sets them: `--set`,
// `replay.file` (read at each update, so a change mid-run takes effect from there) and a PBT
// population whose best schedule replays.
#include <string>
#include <vector>

#include "core/files.hpp"
#include "store/sqlite_store.hpp"
#include "tests/apps/cli.hpp"

using namespace graybox_cli_test;

namespace {

// A few hundred env steps on InvertedPendulum-v5 with updates from step 100.
std::string tiny_off_policy(const std::string& algo) {
  return "seed: 2\ntotal_steps: 600\nenv:\n  id: InvertedPendulum-v5\nagent:\n  algo: " + algo +
         "\n  learning_starts: 100\n  batch_size: 32\n  hidden_sizes: [32, 32]\n  iteration_steps: 100\n"
         "  buffer_size: 1000\neval:\n  episodes: 0\n";
}

std::vector<double> losses(const std::string& run_dir) {
  std::vector<double> out;
  for (const auto& row : graybox::store::SqliteStore(run_dir + "/store.sqlite").metrics(0, "losses/qf1_loss")) {
    out.push_back(row.value);
  }
  return out;
}

class CliOffPolicy : public Cli, public ::testing::WithParamInterface<std::string> {
 protected:
  // A key whose value changes the critics' losses, and a value away from its default.
  std::string key() const { return GetParam() == "sac" ? "q_lr" : "tau"; }
  std::string train(const std::string& name, const std::string& extra) {
    const Result r = run("train " + write(name + ".yaml", tiny_off_policy(GetParam())) + " --quiet " + extra +
                         " --out " + dir_ + "/" + name);
    EXPECT_EQ(r.code, 0) << r.output;
    return dir_ + "/" + name;
  }
  std::string schedule(const std::string& name, const std::string& points) {
    return write(name, "unit: steps\nhyperparameters:\n  " + key() + ":\n    interpolation: hold\n    points: " + points +
                           "\n");
  }
};

TEST_P(CliOffPolicy, KeysReachTheAgentThroughSetAndReplay) {
  const auto defaults = losses(train("defaults", ""));
  const auto set = losses(train("set", "--set agent." + key() + "=0.02"));
  const auto replayed = losses(train("replayed", "--set replay.file=" + schedule("s1.yaml", "[[0, 0.02]]")));
  ASSERT_EQ(set.size(), 5u);  // one report per iteration with updates (steps 200 .. 600)
  EXPECT_NE(set, defaults) << "the key changes the run";
  EXPECT_EQ(replayed, set) << "replay.file sets it from step 0 exactly as --set does";
  // A change at step 400 is read by the next update: the run equals `set` before it, differs after.
  const auto changed =
      losses(train("changed", "--set replay.file=" + schedule("s2.yaml", "[[0, 0.02], [400, 0.001]]")));
  ASSERT_EQ(changed.size(), set.size());
  EXPECT_EQ(std::vector<double>(changed.begin(), changed.begin() + 3), std::vector<double>(set.begin(), set.begin() + 3));
  EXPECT_NE(changed.back(), set.back());
}

TEST_P(CliOffPolicy, APopulationTunesTheKeysAndItsBestScheduleReplays) {
  write("base.yaml", tiny_off_policy(GetParam()));
  const std::string config = write("pbt.yaml", "seed: 4\ntask: rl\nbase_config: base.yaml\ntune:\n  algorithm: pbt\n"
                                               "  population: 3\n  budget_unit: 100\n  perturbation_interval: 2\n"
                                               "  max_budget: 6\nsearch_space:\n  agent." + key() +
                                               ": {type: float, low: 0.001, high: 0.05, log: true}\n");
  Result r = run("tune " + config + " --quiet --out " + dir_ + "/p");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string best = graybox::core::read_file(dir_ + "/p/schedules/best.yaml");
  EXPECT_NE(best.find(key() + ":"), std::string::npos) << best;
  // Every member's value was set on its agent: the members' runs differ from each other.
  graybox::store::SqliteStore store(dir_ + "/p/store.sqlite");
  std::vector<std::vector<double>> members;
  for (int m = 0; m < 3; ++m) {
    std::vector<double> qf1;
    for (const auto& row : store.metrics(m, "losses/qf1_loss")) qf1.push_back(row.value);
    EXPECT_FALSE(qf1.empty()) << "member " << m;
    members.push_back(qf1);
  }
  EXPECT_NE(members[0], members[1]);
  EXPECT_NE(members[1], members[2]);
  train("replay", "--set replay.file=" + dir_ + "/p/schedules/best.yaml");
}

INSTANTIATE_TEST_SUITE_P(Algorithms, CliOffPolicy, ::testing::Values("sac", "td3"));

}  // namespace
