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

namespace fs = std::filesystem;

namespace graybox::controllers {
namespace {

// Branin, but a trial trained for fewer than 3 steps has no score yet.
class LateScoreFactory final : public core::TrialFactory {
 public:
  LateScoreFactory() : inner_(tasks::make_synthetic_factory("branin")) {}
  const core::ConfigSchema& schema() const override { return inner_->schema(); }
  std::unique_ptr<core::Trainable> make(const std::vector<std::string>& o, std::uint64_t seed,
                                        std::int64_t max_units) const override {
    return inner_->make(o, seed, max_units);
  }
  std::int64_t unit() const override { return 1; }
  double score(core::Trainable& t) const override {
    if (t.steps_done() < 3) throw core::NoScore("no episode finished in " + std::to_string(t.steps_done()) + " steps");
    return inner_->score(t);
  }
  std::string metric() const override { return "objective"; }
  bool maximize() const override { return false; }
  std::string config_yaml(const std::vector<std::string>& o, std::uint64_t s, std::int64_t m) const override {
    return inner_->config_yaml(o, s, m);
  }

 private:
  std::unique_ptr<core::TrialFactory> inner_;
};

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
  const LateScoreFactory factory;
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
