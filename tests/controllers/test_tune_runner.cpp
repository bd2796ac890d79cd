#include "controllers/tune_runner.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/files.hpp"
#include "core/yaml.hpp"
#include "store/sqlite_store.hpp"
#include "tasks/synthetic_task.hpp"
#include "tests/tasks/synthetic_factory_wrapper.hpp"

namespace fs = std::filesystem;

namespace graybox::controllers {
namespace {

std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("graybox_tune_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

struct Experiment {
  core::SearchSpace space;
  std::unique_ptr<core::TrialFactory> factory;
  ControllerOptions options;
  Experiment(const std::string& task, const std::string& algorithm) {
    space = core::SearchSpace::from_yaml(
        YAML::Load("x1: {type: float, low: -5, high: 10}\nx2: {type: float, low: 0, high: 15}\n"), "t");
    factory = tasks::make_synthetic_factory(task);
    options.algorithm = algorithm;
    options.num_trials = 12;
    options.max_budget = 9;
    options.eta = 3;
  }
  // Runs to the end, or stops after `stop_after` batches.
  std::vector<TrialResult> run(const std::string& dir, int parallel, int stop_after = -1, bool resume = false) {
    auto controller = make_controller(options, space, 7);
    store::SqliteStore store(dir + "/store.sqlite");
    TuneRunner runner(*controller, *factory, store, dir, 7, options.max_budget, parallel);
    if (resume) {
      EXPECT_TRUE(runner.resume());
    }
    int batches = 0;
    runner.run([&](const std::vector<TrialResult>&) { return stop_after < 0 || ++batches < stop_after; });
    return runner.history();
  }
};


// A trainable that, like PPO, trains in whole updates: 8 steps at a time, so a budget of 5 steps
// trains 8. Its steps go into its checkpoint, where the test reads them back.
class ChunkedTrainable final : public core::Trainable {
 public:
  explicit ChunkedTrainable(double x) : x_(x) { hp_.set("x1", x); }
  const core::Hyperparameters& hyperparameters() const override { return hp_; }
  void set_hyperparameters(const core::Hyperparameters& hp) override { hp_ = hp; }
  std::int64_t steps_done() const override { return steps_; }
  bool finished() const override { return false; }
  void train(std::int64_t budget, core::MetricSink&) override {
    const std::int64_t target = steps_ + budget;
    while (steps_ < target) steps_ += 8;
  }
  core::EvalResult evaluate(int) override { return {}; }
  void save(const std::string& dir) const override { std::ofstream(dir + "/steps") << steps_ << "\n"; }
  void load(const std::string& dir) override { std::ifstream(dir + "/steps") >> steps_; }
  void reseed(std::uint64_t) override {}
  void copy_state_from(const core::Trainable&) override {}
  double x() const { return x_; }

 private:
  core::Hyperparameters hp_;
  double x_;
  std::int64_t steps_ = 0;
};

class ChunkedFactory final : public core::TrialFactory {
 public:
  const core::ConfigSchema& schema() const override { return schema_; }
  std::unique_ptr<core::Trainable> make(const std::vector<std::string>& overrides, std::uint64_t,
                                        std::int64_t) const override {
    return std::make_unique<ChunkedTrainable>(std::stod(overrides.at(0).substr(overrides.at(0).find('=') + 1)));
  }
  std::int64_t unit() const override { return 5; }
  double score(core::Trainable& t) const override {
    const auto& c = static_cast<ChunkedTrainable&>(t);
    return std::abs(c.x() - 0.3) + 1.0 / static_cast<double>(c.steps_done());
  }
  std::string metric() const override { return "loss"; }
  bool maximize() const override { return false; }
  std::string config_yaml(const std::vector<std::string>&, std::uint64_t, std::int64_t) const override { return ""; }

 private:
  core::ConfigSchema schema_;
};

void expect_same(const std::vector<TrialResult>& a, const std::vector<TrialResult>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].trial, b[k].trial);
    EXPECT_EQ(a[k].budget, b[k].budget);
    EXPECT_TRUE(a[k].config == b[k].config);
    EXPECT_EQ(a[k].score, b[k].score);
  }
}

TEST(TuneRunner, ResumeAfterAStopEqualsAnUninterruptedExperiment) {
  for (const std::string algorithm : {"bohb", "asha", "tpe"}) {
    Experiment e("branin_mf", algorithm);
    const auto straight = e.run(temp_dir("straight_" + algorithm), 2);
    const std::string dir = temp_dir("split_" + algorithm);
    const auto part = e.run(dir, 2, 3);
    EXPECT_LT(part.size(), straight.size());
    const auto resumed = e.run(dir, 2, -1, true);
    expect_same(resumed, straight);
  }
}

TEST(TuneRunner, PromotedTrialsContinueFromTheirCheckpoint) {
  Experiment e("branin_mf", "hyperband");
  const std::string dir = temp_dir("promote");
  const auto history = e.run(dir, 1);
  // Every trial trained once per rung; the total spent equals the sum of budget increments,
  // not the sum of budgets.
  std::map<int, std::int64_t> reached;
  std::int64_t increments = 0, budgets = 0;
  for (const auto& r : history) {
    increments += r.budget - reached[r.trial];
    reached[r.trial] = r.budget;
    budgets += r.budget;
  }
  EXPECT_LT(increments, budgets);
  auto controller = make_controller(e.options, e.space, 7);
  store::SqliteStore store(dir + "/store.sqlite");
  TuneRunner runner(*controller, *e.factory, store, dir, 7, e.options.max_budget, 1);
  ASSERT_TRUE(runner.resume());
  EXPECT_EQ(runner.total_units(), increments);
  EXPECT_EQ(store.trials().size(), reached.size());
}

TEST(TuneRunner, RandomSearchDoesNotDependOnParallelism) {
  Experiment e("branin", "random");
  expect_same(e.run(temp_dir("p1"), 1), e.run(temp_dir("p3"), 3));
}

TEST(TuneRunner, MultiFidelityScoresConvergeToTheObjective) {
  Experiment e("branin_mf", "sha");
  const auto history = e.run(temp_dir("mf"), 1);
  for (const auto& r : history) {
    if (r.budget == e.options.max_budget) {
      EXPECT_NEAR(r.score, tasks::branin(r.config.values[0], r.config.values[1]), 1e-9);
    }
  }
}


// Budgets count the steps trials actually trained (a 1-unit rung of 5 steps trains 8 here, as a
// 5000-step rung trains 6144 at num_steps 2048), not the nominal units times the unit.
TEST(TuneRunner, TotalStepsAreTheStepsActuallyTrained) {
  const core::SearchSpace space = core::SearchSpace::from_yaml(YAML::Load("x1: {type: float, low: 0, high: 1}\n"), "t");
  ChunkedFactory factory;
  ControllerOptions o;
  o.algorithm = "hyperband";
  o.max_budget = 9;
  o.eta = 3;
  auto controller = make_controller(o, space, 3);
  const std::string dir = temp_dir("chunked");
  store::SqliteStore store(dir + "/store.sqlite");
  TuneRunner runner(*controller, factory, store, dir, 3, o.max_budget, 2);
  runner.run();
  std::int64_t trained = 0;  // every trial's final steps, from its checkpoint
  for (const auto& entry : fs::directory_iterator(dir + "/trials")) {
    std::int64_t steps = 0;
    std::ifstream(entry.path() / "steps") >> steps;
    trained += steps;
  }
  EXPECT_EQ(runner.total_steps(), trained);
  EXPECT_GT(runner.total_steps(), runner.total_units() * factory.unit());
  std::int64_t per_result = 0;
  for (const auto& r : runner.history()) per_result += r.steps;
  EXPECT_EQ(per_result, trained);

  // A resumed runner reads the count back.
  auto again = make_controller(o, space, 3);
  TuneRunner resumed(*again, factory, store, dir, 3, o.max_budget, 2);
  ASSERT_TRUE(resumed.resume());
  EXPECT_EQ(resumed.total_steps(), trained);
}

// A stop request (Ctrl-C) takes effect inside the running trials at their next budget unit: they
// keep their checkpoints, nothing of the batch is reported, and a resumed experiment ends exactly
// as an uninterrupted one (results, steps).
TEST(TuneRunner, AStopInsideTheTrialsResumesToTheSameResult) {
  const core::SearchSpace space = core::SearchSpace::from_yaml(YAML::Load("x1: {type: float, low: 0, high: 1}\n"), "t");
  ChunkedFactory factory;
  ControllerOptions o;
  o.algorithm = "hyperband";
  o.max_budget = 9;
  o.eta = 3;
  std::vector<TrialResult> whole;
  std::int64_t whole_steps = 0;
  {
    auto controller = make_controller(o, space, 3);
    const std::string dir = temp_dir("stop_whole");
    store::SqliteStore store(dir + "/store.sqlite");
    TuneRunner runner(*controller, factory, store, dir, 3, o.max_budget, 2);
    runner.run();
    whole = runner.history();
    whole_steps = runner.total_steps();
  }
  const std::string dir = temp_dir("stop_inside");
  std::size_t reported = 0;
  {
    auto controller = make_controller(o, space, 3);
    store::SqliteStore store(dir + "/store.sqlite");
    TuneRunner runner(*controller, factory, store, dir, 3, o.max_budget, 2);
    std::atomic<int> checks{0};
    runner.set_stop([&] { return ++checks > 40; });  // some way into the experiment, mid-trial
    runner.run();
    EXPECT_TRUE(runner.stopped());
    reported = runner.history().size();
    EXPECT_LT(reported, whole.size());
  }
  auto controller = make_controller(o, space, 3);
  store::SqliteStore store(dir + "/store.sqlite");
  TuneRunner resumed(*controller, factory, store, dir, 3, o.max_budget, 2);
  ASSERT_TRUE(resumed.resume());
  EXPECT_EQ(resumed.history().size(), reported);
  resumed.run();
  ASSERT_EQ(resumed.history().size(), whole.size());
  for (std::size_t k = 0; k < whole.size(); ++k) {
    EXPECT_EQ(resumed.history()[k].trial, whole[k].trial);
    EXPECT_EQ(resumed.history()[k].budget, whole[k].budget);
    EXPECT_EQ(resumed.history()[k].score, whole[k].score);
  }
  EXPECT_EQ(resumed.total_steps(), whole_steps);
}

// Every trial is locked while it trains: another process holding trials/<id>.lock keeps the
// runner out of that trial (it is an error result naming the holder), not a shared checkpoint.
TEST(TuneRunner, ATrialLockedByAnotherProcessIsNotTrained) {
  Experiment e("branin", "random");
  e.options.num_trials = 3;
  const std::string dir = temp_dir("locked_trial");
  fs::create_directories(dir + "/trials");
  const core::DirLock held(dir + "/trials", "1.lock");
  const auto history = e.run(dir, 1);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].status, "ok");
  EXPECT_NE(history[1].status.find("trials/1.lock: in use by pid " + std::to_string(::getpid())), std::string::npos)
      << history[1].status;
  EXPECT_FALSE(fs::exists(dir + "/trials/1/done"));
  EXPECT_EQ(history[2].status, "ok");
}

// A kill after a trial's checkpoint was swapped in but before its batch was committed leaves the
// checkpoint ahead of the committed history; the resumed experiment re-runs that job and must
// count the steps an uninterrupted experiment counts.
TEST(TuneRunner, AResumeOverACheckpointAheadOfTheStoreCountsTheSameSteps) {
  const core::SearchSpace space = core::SearchSpace::from_yaml(YAML::Load("x1: {type: float, low: 0, high: 1}\n"), "t");
  ChunkedFactory factory;
  ControllerOptions o;
  o.algorithm = "hyperband";
  o.max_budget = 9;
  o.eta = 3;
  const auto steps_after = [&](const std::string& dir, int stop_after) {
    auto controller = make_controller(o, space, 3);
    store::SqliteStore store(dir + "/store.sqlite");
    TuneRunner runner(*controller, factory, store, dir, 3, o.max_budget, 1);
    int batches = 0;
    runner.run([&](const std::vector<TrialResult>&) { return stop_after < 0 || ++batches < stop_after; });
    return runner.total_steps();
  };
  const std::int64_t uninterrupted = steps_after(temp_dir("ahead_whole"), -1);
  // "Killed": the store as after 12 batches, the trials' checkpoints as after 13.
  const std::string killed = temp_dir("ahead_killed"), further = temp_dir("ahead_further");
  steps_after(killed, 12);
  steps_after(further, 13);
  fs::remove_all(killed + "/trials");
  fs::copy(further + "/trials", killed + "/trials", fs::copy_options::recursive);
  auto controller = make_controller(o, space, 3);
  store::SqliteStore store(killed + "/store.sqlite");
  TuneRunner resumed(*controller, factory, store, killed, 3, o.max_budget, 1);
  ASSERT_TRUE(resumed.resume());
  resumed.run();
  EXPECT_EQ(resumed.total_steps(), uninterrupted);
}

// `parallel` trials train side by side even beyond the cores: trials are independent jobs (I/O,
// sleeping objectives), so `parallel` means that many threads. TBB caps its workers at the cores
// by default, so the old runner trained hardware_concurrency trials at a time (and TBB warned
// "The number of workers is currently limited"): here each trial's first train call waits until
// all `parallel` trials are inside one, which only happens with `parallel` threads.
TEST(TuneRunner, ParallelTrialsRunSideBySideBeyondTheCores) {
  const int parallel = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) + 2;
  tasks::testing::Rendezvous meeting(parallel, std::chrono::seconds(10));
  std::atomic<int> alone{0};  // trials whose first train call found fewer than `parallel` inside
  Experiment e("branin", "random");
  e.options.num_trials = parallel;
  e.options.max_budget = 1;
  e.factory = std::make_unique<tasks::testing::HookedFactory>([&](const core::Trainable& t) {
    if (t.steps_done() == 0 && !meeting.arrive()) ++alone;
  });
  const auto history = e.run(temp_dir("side_by_side"), parallel);
  ASSERT_EQ(static_cast<int>(history.size()), parallel);
  for (const auto& r : history) EXPECT_EQ(r.status, "ok") << r.trial;
  EXPECT_EQ(alone.load(), 0) << "of " << parallel << " trials";
}

}  // namespace
}  // namespace graybox::controllers
