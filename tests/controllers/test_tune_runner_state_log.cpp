// Issue 15 item 1: the tune runner's resume state is written incrementally (each batch appends
// only its results and the controller's changes), and a store of the first schema, which kept
// the whole state in one meta row, resumes and continues as an uninterrupted run.
#include <gtest/gtest.h>

#include <filesystem>

#include "controllers/tune_runner.hpp"
#include "core/yaml.hpp"
#include "store/sqlite_store.hpp"
#include "tasks/synthetic_task.hpp"
#include "tests/support/processes.hpp"

namespace fs = std::filesystem;

namespace graybox::controllers {
namespace {

using graybox::testing::fresh_dir;

struct BraninRandom {
  core::SearchSpace space = core::SearchSpace::from_yaml(
      YAML::Load("x1: {type: float, low: -5, high: 10}\nx2: {type: float, low: 0, high: 15}\n"), "t");
  std::unique_ptr<core::TrialFactory> factory = tasks::make_synthetic_factory("branin");
  ControllerOptions options;
  explicit BraninRandom(int trials) {
    options.algorithm = "random";
    options.num_trials = trials;
    options.max_budget = 1;
  }
  std::vector<TrialResult> run(core::Store& store, const std::string& dir, std::uint64_t seed, bool resume) {
    auto controller = make_controller(options, space, seed);
    TuneRunner runner(*controller, *factory, store, dir, seed, options.max_budget, 1);
    if (resume) {
      EXPECT_TRUE(runner.resume());
    }
    runner.run();
    return runner.history();
  }
};

TEST(TuneRunnerStateLog, FiveHundredTrialsWriteEachResultOnceNotTheHistoryAgain) {
  const std::string dir = fresh_dir("state_log_500");
  BraninRandom e(500);
  std::vector<TrialResult> history;
  {
    store::SqliteStore store(dir + "/store.sqlite");
    history = e.run(store, dir, 5, false);
  }
  ASSERT_EQ(history.size(), 500u);
  store::SqliteStore store(dir + "/store.sqlite");
  const std::vector<std::string> log = store.state_log("tune");
  ASSERT_EQ(log.size(), 500u);  // one entry per batch
  const auto mean_bytes = [&](std::size_t from, std::size_t to) {
    double sum = 0;
    for (std::size_t k = from; k < to; ++k) sum += static_cast<double>(log[k].size());
    return sum / static_cast<double>(to - from);
  };
  // The first entry holds the whole (then short) state; later ones a result and the
  // controller's changes, the same size at trial 450 as at trial 50.
  const double early = mean_bytes(1, 101), late = mean_bytes(400, 500);
  EXPECT_LT(late, 1.2 * early) << "bytes per batch grow with the history: " << early << " -> " << late;
  // Each batch writes a small fraction of the state (a result, the controller's RNG and
  // counters); rewriting the whole state after each batch would write about 250 times the
  // final state.
  core::StateJournal journal(store, "tune");
  const double final_state = static_cast<double>(journal.load().dump().size());
  EXPECT_LT(late, 0.1 * final_state);
  EXPECT_LT(static_cast<double>(store.state_log_bytes("tune")), 25.0 * final_state);
  EXPECT_EQ(store.meta("controller_state"), "");  // no whole-state row any more
}

TEST(TuneRunnerStateLog, AResumedRunEndsAsAnUninterruptedOne) {
  BraninRandom e(12);
  const std::string whole_dir = fresh_dir("state_log_whole"), dir = fresh_dir("state_log_resumed");
  store::SqliteStore whole_store(whole_dir + "/store.sqlite");
  const auto whole = e.run(whole_store, whole_dir, 9, false);
  {
    BraninRandom first(5);  // a run of 5 trials, continued below to 12: the same first 5
    store::SqliteStore store(dir + "/store.sqlite");
    first.run(store, dir, 9, false);
  }
  store::SqliteStore store(dir + "/store.sqlite");
  const auto resumed = e.run(store, dir, 9, true);
  ASSERT_EQ(resumed.size(), whole.size());
  for (std::size_t k = 0; k < whole.size(); ++k) {
    EXPECT_EQ(resumed[k].trial, whole[k].trial);
    EXPECT_EQ(resumed[k].score, whole[k].score);
  }
}

// tests/store/data/tune_v1.sqlite: written by graybox 0.1 (commit afdb9e0, before the state log):
//   graybox tune configs/tune/branin_random.yaml --set tune.num_trials=6 --out DIR --quiet
TEST(TuneRunnerStateLog, AStoreOfTheFirstSchemaResumesAndContinuesAsAnUninterruptedRun) {
  const std::string dir = fresh_dir("state_log_v1"), whole_dir = fresh_dir("state_log_v1_whole");
  fs::copy_file(GRAYBOX_SOURCE_DIR "/tests/store/data/tune_v1.sqlite", dir + "/store.sqlite");
  BraninRandom e(9);  // the same experiment (seed 1), continued from 6 trials to 9
  std::vector<TrialResult> resumed;
  {
    store::SqliteStore store(dir + "/store.sqlite");
    resumed = e.run(store, dir, 1, true);
  }
  store::SqliteStore whole_store(whole_dir + "/store.sqlite");
  const auto whole = e.run(whole_store, whole_dir, 1, false);
  ASSERT_EQ(resumed.size(), 9u);
  ASSERT_EQ(whole.size(), 9u);
  for (std::size_t k = 0; k < whole.size(); ++k) {
    EXPECT_EQ(resumed[k].trial, whole[k].trial);
    EXPECT_DOUBLE_EQ(resumed[k].score, whole[k].score) << "trial " << k;
  }
  // The log now starts with the old state: a second resume reads the log, not the meta row.
  store::SqliteStore store(dir + "/store.sqlite");
  EXPECT_EQ(store.state_log("tune").size(), 3u);  // three batches, the first with the whole state
}

}  // namespace
}  // namespace graybox::controllers
