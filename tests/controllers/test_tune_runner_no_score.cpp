// A trial that has nothing to be scored by (an RL trial whose budget ended before any episode
// did) is reported as such, "no score: ...", never as a made-up worst value, and the experiment
// goes on with the others.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "store/sqlite_store.hpp"
#include "controllers/tune_runner.hpp"
#include "core/yaml.hpp"
#include "tasks/synthetic_task.hpp"
#include "tests/tasks/synthetic_factory_wrapper.hpp"

namespace fs = std::filesystem;

namespace graybox::controllers {
namespace {

TEST(TuneRunner, ATrialWithNoScoreYetIsReportedAsSuchAndTheOthersGoOn) {
  const fs::path dir = fs::temp_directory_path() / ("graybox_tune_noscore_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const core::SearchSpace space = core::SearchSpace::from_yaml(
      YAML::Load("x1: {type: float, low: -5, high: 10}\nx2: {type: float, low: 0, high: 15}\n"), "t");
  ControllerOptions options;
  options.algorithm = "hyperband";
  options.max_budget = 9;
  options.eta = 3;
  const tasks::testing::LateScoreFactory factory(3);
  auto controller = make_controller(options, space, 3);
  store::SqliteStore store((dir / "store.sqlite").string());
  TuneRunner runner(*controller, factory, store, dir.string(), 3, options.max_budget, 1);
  runner.run();
  int unscored = 0, scored = 0;
  for (const auto& r : runner.history()) {
    if (r.budget < 3) {
      EXPECT_EQ(r.status.rfind("no score: no episode finished in", 0), 0u) << r.status;
      EXPECT_TRUE(std::isnan(r.score));
      EXPECT_TRUE(std::isinf(r.loss));
      ++unscored;
    } else {
      EXPECT_EQ(r.status, "ok");
      EXPECT_TRUE(std::isfinite(r.score));
      ++scored;
    }
  }
  EXPECT_GT(unscored, 0);
  EXPECT_GT(scored, 0);
  ASSERT_NE(runner.best(), nullptr);
  EXPECT_EQ(runner.best()->status, "ok");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace graybox::controllers
