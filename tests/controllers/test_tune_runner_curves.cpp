// Learning curves of tune trials: every trial's metrics reach the run store (trial, step, name,
// value), and a resumed experiment that trains steps again replaces them instead of adding rows.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <tuple>

#include "store/sqlite_store.hpp"
#include "controllers/tune_runner.hpp"
#include "core/yaml.hpp"
#include "tasks/synthetic_task.hpp"
#include "tests/tasks/synthetic_factory_wrapper.hpp"

namespace fs = std::filesystem;

namespace graybox::controllers {
namespace {

std::string curve_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("graybox_curves_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// Branin with fidelity, trained one step at a time, so it reports its objective at every step it
// trains (as an RL trainable reports every episode): a trial trained again re-reports steps.
class EveryStepTrainable final : public core::Trainable {
 public:
  explicit EveryStepTrainable(std::unique_ptr<core::Trainable> inner) : inner_(std::move(inner)) {}
  const core::Hyperparameters& hyperparameters() const override { return inner_->hyperparameters(); }
  void set_hyperparameters(const core::Hyperparameters& hp) override { inner_->set_hyperparameters(hp); }
  std::int64_t steps_done() const override { return inner_->steps_done(); }
  bool finished() const override { return inner_->finished(); }
  void train(std::int64_t budget, core::MetricSink& sink) override {
    for (std::int64_t k = 0; k < budget && !finished(); ++k) inner_->train(1, sink);
  }
  core::EvalResult evaluate(int episodes) override { return inner_->evaluate(episodes); }
  void save(const std::string& dir) const override { inner_->save(dir); }
  void load(const std::string& dir) override { inner_->load(dir); }
  void reseed(std::uint64_t seed) override { inner_->reseed(seed); }
  void copy_state_from(const core::Trainable&) override { throw std::invalid_argument("not used by tune"); }
  core::Trainable& inner() { return *inner_; }

 private:
  std::unique_ptr<core::Trainable> inner_;
};

class EveryStepFactory final : public tasks::testing::WrappedSyntheticFactory {
 public:
  EveryStepFactory() : WrappedSyntheticFactory("branin_mf") {}
  std::unique_ptr<core::Trainable> make(const std::vector<std::string>& o, std::uint64_t seed,
                                        std::int64_t max_units) const override {
    return std::make_unique<EveryStepTrainable>(inner().make(o, seed, max_units));
  }
  double score(core::Trainable& t) const override { return inner().score(static_cast<EveryStepTrainable&>(t).inner()); }
};

using Curves = std::map<std::tuple<std::int64_t, std::int64_t, std::string>, std::vector<double>>;

Curves curves_in(const core::Store& store) {
  Curves c;
  for (const auto& r : store.metrics()) c[{r.trial, r.step, r.name}].push_back(r.value);
  return c;
}

struct CurveExperiment {
  core::SearchSpace space = core::SearchSpace::from_yaml(
      YAML::Load("x1: {type: float, low: -5, high: 10}\nx2: {type: float, low: 0, high: 15}\n"), "t");
  EveryStepFactory factory;
  ControllerOptions options;
  CurveExperiment() {
    options.algorithm = "bohb";
    options.num_trials = 12;
    options.max_budget = 9;
    options.eta = 3;
  }
  std::vector<TrialResult> run(const std::string& dir, int stop_after = -1, bool resume = false) {
    auto controller = make_controller(options, space, 11);
    store::SqliteStore store(dir + "/store.sqlite");
    TuneRunner runner(*controller, factory, store, dir, 11, options.max_budget, 2);
    if (resume) {
      EXPECT_TRUE(runner.resume());
    }
    int batches = 0;
    runner.run([&](const std::vector<TrialResult>&) { return stop_after < 0 || ++batches < stop_after; });
    return runner.history();
  }
};

TEST(TuneRunnerCurves, EveryTrialLeavesItsLearningCurveInTheStore) {
  CurveExperiment e;
  const std::string dir = curve_dir("whole");
  const auto history = e.run(dir);
  store::SqliteStore store(dir + "/store.sqlite");
  const Curves curves = curves_in(store);
  ASSERT_FALSE(history.empty());
  for (const auto& h : history) {
    // One row per step the trial trained, up to the job's budget; the last is the job's score.
    for (std::int64_t step = 1; step <= h.budget; ++step) {
      const auto it = curves.find({h.trial, step, "objective"});
      ASSERT_NE(it, curves.end()) << "trial " << h.trial << " step " << step;
      EXPECT_EQ(it->second.size(), 1u) << "trial " << h.trial << " step " << step;
    }
    EXPECT_EQ(curves.at({h.trial, h.budget, "objective"}).front(), h.score) << "trial " << h.trial;
  }
}

// A resumed experiment whose trials lost their checkpoints trains them again from step 0: the
// steps they re-report replace the committed rows (the store refuses a second add_metric), and
// the curves end as an uninterrupted experiment's.
TEST(TuneRunnerCurves, AResumedExperimentLeavesNoDuplicateRows) {
  CurveExperiment e;
  const std::string whole = curve_dir("uninterrupted");
  e.run(whole);
  const std::string dir = curve_dir("resumed");
  e.run(dir, 3);
  fs::remove_all(dir + "/trials");
  fs::create_directories(dir + "/trials");
  e.run(dir, -1, true);
  store::SqliteStore a(whole + "/store.sqlite"), b(dir + "/store.sqlite");
  const Curves straight = curves_in(a), resumed = curves_in(b);
  for (const auto& [key, values] : resumed) {
    EXPECT_EQ(values.size(), 1u) << "trial " << std::get<0>(key) << " step " << std::get<1>(key) << " " << std::get<2>(key);
  }
  EXPECT_EQ(resumed, straight);
}

}  // namespace
}  // namespace graybox::controllers
