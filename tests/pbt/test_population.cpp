// The population runner on synthetic trainables: lineage consistency, resume equality, NaN
// rollback, schedule export and replay, async mode.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "store/sqlite_store.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "pbt/population_runner.hpp"
#include "tasks/synthetic_task.hpp"
#include "tests/pbt/pbt_test_support.hpp"
#include "tests/tasks/synthetic_factory_wrapper.hpp"

namespace fs = std::filesystem;

namespace graybox::pbt {
namespace {

using testing::branin_space;
using testing::fresh_dir;

class NullSinkForTest final : public core::MetricSink {
 public:
  void metric(std::int64_t, const std::string&, double) override {}
  void event(std::int64_t, const std::string&, const std::string&) override {}
};

PbtOptions options(const std::string& algorithm = "pbt") {
  PbtOptions o;
  o.algorithm = algorithm;
  o.population = 8;
  o.interval = 5;
  o.max_budget = 60;
  o.parallel = 2;
  return o;
}

using tasks::testing::DivergingFactory;

// A trainable whose state is distinguishable from its hyperparameters: `progress` grows by
// rate(x) per step trained and is the score (maximised), so the score of the state a copy took
// shows in the copy's next interval.
double progress_rate(double x1, double x2) { return 1.0 / (1.0 + tasks::branin(x1, x2)); }

class ProgressTrainable final : public core::Trainable {
 public:
  ProgressTrainable(double x1, double x2, std::int64_t max_steps) : max_steps_(max_steps) {
    hp_.set("x1", x1);
    hp_.set("x2", x2);
  }
  const core::Hyperparameters& hyperparameters() const override { return hp_; }
  void set_hyperparameters(const core::Hyperparameters& hp) override { hp_ = hp; }
  std::int64_t steps_done() const override { return steps_; }
  bool finished() const override { return steps_ >= max_steps_; }
  void train(std::int64_t budget, core::MetricSink&) override {
    const std::int64_t n = std::min(budget, max_steps_ - steps_);
    progress_ += static_cast<double>(n) * progress_rate(hp_.get("x1"), hp_.get("x2"));
    steps_ += n;
  }
  core::EvalResult evaluate(int) override { return {{progress_}, {steps_}, progress_, 0.0}; }
  void save(const std::string& dir) const override {
    core::write_file_atomic(dir + "/state.json", nlohmann::json{{"steps", steps_}, {"progress", progress_}}.dump());
  }
  void load(const std::string& dir) override {
    const auto j = nlohmann::json::parse(core::read_file(dir + "/state.json"));
    steps_ = j.at("steps").get<std::int64_t>();
    progress_ = j.at("progress").get<double>();
  }
  void reseed(std::uint64_t) override {}
  void copy_state_from(const core::Trainable& other) override {
    const auto& o = dynamic_cast<const ProgressTrainable&>(other);
    steps_ = o.steps_;
    progress_ = o.progress_;
    hp_ = o.hp_;
  }
  double progress() const { return progress_; }

 private:
  std::int64_t max_steps_;
  std::int64_t steps_ = 0;
  double progress_ = 0.0;
  core::Hyperparameters hp_;
};

class ProgressFactory final : public tasks::testing::WrappedSyntheticFactory {
 public:
  std::unique_ptr<core::Trainable> make(const std::vector<std::string>& o, std::uint64_t seed,
                                        std::int64_t max_units) const override {
    const auto probe = inner().make(o, seed, max_units);
    return std::make_unique<ProgressTrainable>(probe->hyperparameters().get("x1"), probe->hyperparameters().get("x2"),
                                               max_units);
  }
  double score(core::Trainable& t) const override { return static_cast<ProgressTrainable&>(t).progress(); }
  std::string metric() const override { return "progress"; }
  bool maximize() const override { return true; }
};

// Every exploit takes the donor's *current* state: the one whose score the donor reports. In
// async mode a member that has just exploited offers the state it copied, not the bottom-ranked
// one it had before (its score is already the copy's).
TEST(PopulationRunner, EveryExploitCopiesTheStateTheDonorIsScoredBy) {
  for (const bool synchronous : {true, false}) {
    const ProgressFactory factory;
    const core::SearchSpace space = branin_space();
    const std::string dir = fresh_dir(synchronous ? "progress_sync" : "progress_async");
    store::SqliteStore store(dir + "/store.sqlite");
    PbtOptions o = options();
    o.synchronous = synchronous;
    PopulationRunner runner(o, space, factory, store, dir, 11);
    runner.run();
    // Per member, its interval records in the order they happened.
    std::map<int, std::vector<MemberRecord>> records;
    for (const auto& h : runner.history()) records[h.member].push_back(h);
    std::map<int, std::size_t> next_record;  // per member: the record after its last matched exploit
    int checked = 0;
    for (const auto& e : runner.lineage()) {
      if (e.kind != "exploit") continue;
      auto& list = records[e.member];
      std::size_t& i = next_record[e.member];
      // The exploit follows the member's interval record with the member's step and score.
      while (i < list.size() && !(list[i].step == e.member_step && list[i].score == e.member_score)) ++i;
      ASSERT_LT(i, list.size()) << "exploit of " << e.member << " at " << e.member_step;
      ++i;
      if (i >= list.size()) {
        EXPECT_EQ(e.donor_step, 60) << "only a copy at the end of the budget has no next interval";
        continue;
      }
      const MemberRecord& after = list[i];
      const double rate = progress_rate(e.hyperparameters.at("x1"), e.hyperparameters.at("x2"));
      const double copied = after.score - static_cast<double>(after.step - e.donor_step) * rate;
      EXPECT_NEAR(copied, e.donor_score, 1e-9 * std::max(1.0, std::abs(e.donor_score)))
          << (synchronous ? "sync" : "async") << ": member " << e.member << " copied " << e.donor << " at step "
          << e.donor_step;
      ++checked;
    }
    if (synchronous) {
      EXPECT_GT(checked, 10);
    }

  }
}

TEST(PopulationRunner, ImprovesAndEveryCopyPointsToAStateThatExisted) {
  for (const std::string algorithm : {"pbt", "pb2"}) {
    const auto factory = tasks::make_synthetic_factory("branin");
    const core::SearchSpace space = branin_space();
    const std::string dir = fresh_dir("lineage_" + algorithm);
    store::SqliteStore store(dir + "/store.sqlite");
    PopulationRunner runner(options(algorithm), space, *factory, store, dir, 1);
    runner.run();
    for (int i = 0; i < runner.size(); ++i) EXPECT_EQ(runner.steps(i), 60) << algorithm;
    EXPECT_EQ(runner.total_units(), 8 * 60);

    // The population improves: its mean final score beats its mean after the first round.
    double first = 0, last = 0;
    for (const auto& h : runner.history()) {
      if (h.step == 5) first += h.score / 8;
    }
    for (int i = 0; i < runner.size(); ++i) last += runner.score(i) / 8;
    EXPECT_LT(last, first) << algorithm;
    EXPECT_LT(runner.score(runner.best()), 1.0) << algorithm;

    // Every exploit copies a donor state that was scored at exactly that step.
    std::set<std::pair<int, std::int64_t>> existed;
    for (const auto& h : runner.history()) {
      if (std::isfinite(h.score)) existed.insert({h.member, h.step});
    }
    int exploits = 0;
    for (const auto& e : runner.lineage()) {
      if (e.kind != "exploit") continue;
      ++exploits;
      EXPECT_TRUE(existed.count({e.donor, e.donor_step})) << e.donor << "@" << e.donor_step;
      EXPECT_NE(e.member, e.donor);
      EXPECT_FALSE(e.old_config.is_null());
    }
    EXPECT_EQ(exploits, 2 * 11);  // n = 2 of 8, in each of the 11 rounds before the last
    EXPECT_EQ(store.count_events("exploit"), exploits);

    // The best member's ancestry is a contiguous chain from step 0 to its final step.
    const auto chain = runner.export_lineage();
    ASSERT_FALSE(chain.empty());
    EXPECT_EQ(chain.front().from, 0);
    EXPECT_EQ(chain.back().to, 60);
    EXPECT_EQ(chain.back().member, runner.best());
    for (std::size_t k = 1; k < chain.size(); ++k) EXPECT_EQ(chain[k].from, chain[k - 1].to);
    EXPECT_TRUE(fs::exists(dir + "/lineage.json"));
    EXPECT_NE(core::read_file(dir + "/lineage.dot").find("digraph"), std::string::npos);

    // The schedule replays the chain: at each stretch, the values that stretch trained with.
    const HyperparameterSchedules schedules = read_schedules(dir + "/schedules/best.yaml");
    ASSERT_EQ(schedules.points.size(), 2u);
    for (const auto& s : chain) {
      if (s.from == s.to) continue;
      const auto values = schedules.at(static_cast<double>(s.from));
      for (const auto& [name, value] : values) EXPECT_DOUBLE_EQ(value, s.hyperparameters.at(name)) << name;
    }
    // Replaying the schedule on a fresh trainable ends on the best member's values.
    auto t = factory->make({}, 1, 60);
    NullSinkForTest sink;
    while (t->steps_done() < 60) {
      core::Hyperparameters hp = t->hyperparameters();
      for (const auto& [name, value] : schedules.at(static_cast<double>(t->steps_done()))) hp.set(name, value);
      t->set_hyperparameters(hp);
      t->train(1, sink);
    }
    EXPECT_DOUBLE_EQ(factory->score(*t), runner.score(runner.best())) << algorithm;
  }
}

TEST(PopulationRunner, ResumedRunEqualsAnUninterruptedOne) {
  for (const std::string algorithm : {"pbt", "pb2"}) {
    const auto factory = tasks::make_synthetic_factory("branin_mf");
    const core::SearchSpace space = branin_space();
    std::vector<double> uninterrupted;
    {
      const std::string dir = fresh_dir("whole_" + algorithm);
      store::SqliteStore store(dir + "/store.sqlite");
      PopulationRunner runner(options(algorithm), space, *factory, store, dir, 7);
      runner.run();
      for (int i = 0; i < runner.size(); ++i) uninterrupted.push_back(runner.score(i));
    }
    const std::string dir = fresh_dir("killed_" + algorithm);
    {
      store::SqliteStore store(dir + "/store.sqlite");
      PopulationRunner runner(options(algorithm), space, *factory, store, dir, 7);
      int rounds = 0;
      runner.run([&] { return ++rounds < 4; });  // "killed" after the 4th committed round
      EXPECT_EQ(runner.steps(0), 20);
    }
    store::SqliteStore store(dir + "/store.sqlite");
    PopulationRunner runner(options(algorithm), space, *factory, store, dir, 7);
    ASSERT_TRUE(runner.resume());
    EXPECT_EQ(runner.rounds(), 4);
    runner.run();
    ASSERT_EQ(runner.size(), static_cast<int>(uninterrupted.size()));
    for (int i = 0; i < runner.size(); ++i) EXPECT_EQ(runner.score(i), uninterrupted[i]) << algorithm << " member " << i;
    EXPECT_EQ(runner.total_units(), 8 * 60);
  }
}

TEST(PopulationRunner, DivergedMembersRollBackAndThePopulationSurvives) {
  const DivergingFactory factory;
  const core::SearchSpace space = branin_space();
  const std::string dir = fresh_dir("nan");
  store::SqliteStore store(dir + "/store.sqlite");
  PopulationRunner runner(options(), space, factory, store, dir, 3);
  runner.run();
  EXPECT_GT(store.count_events("rollback"), 0);
  for (int i = 0; i < runner.size(); ++i) {
    EXPECT_TRUE(std::isfinite(runner.score(i))) << i;
    EXPECT_EQ(runner.steps(i), 60);
    EXPECT_LE(runner.config(i).values[0], 6.0);
  }
  for (const auto& e : runner.lineage()) {
    if (e.kind != "rollback") continue;
    EXPECT_LT(e.donor_step, e.member_step);  // back to an earlier state
    EXPECT_NE(e.old_config, e.new_config);    // and away from the values that diverged
  }
  // Its curve: the interval trained again re-reports that step and replaces the committed row
  // (the store refuses a second add_metric there), so each step holds one value.
  std::map<std::pair<std::int64_t, std::int64_t>, int> rows;
  for (const auto& r : store.metrics(-1, "objective")) ++rows[{r.trial, r.step}];
  for (int i = 0; i < runner.size(); ++i) EXPECT_TRUE(rows.count({i, 60})) << i;
  for (const auto& [key, count] : rows) EXPECT_EQ(count, 1) << "member " << key.first << " step " << key.second;
}

// Asynchronous exploits never move a member back in time: each member's steps only grow, and
// the population trains at most population x max_budget units (with donors behind it, members
// copied each other back and forth: runs took up to 10x the budget, some never ended).
TEST(PopulationRunner, AsynchronousMembersNeverGoBackAndTheBudgetIsBounded) {
  const auto factory = tasks::make_synthetic_factory("branin");
  const core::SearchSpace space = branin_space();  // the runner keeps a reference
  for (int seed = 1; seed <= 4; ++seed) {
    const std::string dir = fresh_dir("forward_" + std::to_string(seed));
    store::SqliteStore store(dir + "/store.sqlite");
    PbtOptions o = options();
    o.synchronous = false;
    o.population = 6;
    o.max_budget = 40;
    PopulationRunner runner(o, space, *factory, store, dir, static_cast<std::uint64_t>(seed));
    runner.run();
    std::map<int, std::int64_t> last;
    for (const auto& h : runner.history()) {
      EXPECT_GT(h.step, last[h.member]) << "seed " << seed << " member " << h.member;
      last[h.member] = h.step;
    }
    EXPECT_GT(store.count_events("exploit"), 0) << seed;
    EXPECT_LE(runner.total_units(), o.population * o.max_budget) << seed;
  }
}

// An unscored member (Branin, but nothing to be scored by before 12 steps, as an RL member before
// its first episode ends) is neither rolled back (it did not diverge) nor ranked; it trains on.
TEST(PopulationRunner, MembersWithNoScoreYetTrainOnUnrankedAndAreNotRolledBack) {
  for (const bool synchronous : {true, false}) {
    const tasks::testing::LateScoreFactory factory(12);
    const core::SearchSpace space = branin_space();
    const std::string dir = fresh_dir(synchronous ? "late_sync" : "late_async");
    store::SqliteStore store(dir + "/store.sqlite");
    PbtOptions o = options();
    o.synchronous = synchronous;
    PopulationRunner runner(o, space, factory, store, dir, 4);
    runner.run();
    EXPECT_EQ(store.count_events("rollback"), 0) << synchronous;
    EXPECT_GT(store.count_events("exploit"), 0) << synchronous;
    for (const auto& e : runner.lineage()) {
      if (e.kind == "exploit") {
        EXPECT_GE(e.member_step, 12) << synchronous;
      }
    }
    for (int i = 0; i < runner.size(); ++i) EXPECT_EQ(runner.steps(i), 60) << synchronous;
  }
}

// Each member's folder is locked for the runner's life: a member folder held by another process
// stops the run before anything trains.
TEST(PopulationRunner, AMemberFolderLockedByAnotherProcessRefusesTheRun) {
  const auto factory = tasks::make_synthetic_factory("branin");
  const core::SearchSpace space = branin_space();
  const std::string dir = fresh_dir("locked_member");
  fs::create_directories(dir + "/members/2");
  const core::DirLock held(dir + "/members/2");
  store::SqliteStore store(dir + "/store.sqlite");
  PopulationRunner runner(options(), space, *factory, store, dir, 1);
  try {
    runner.run();
    ADD_FAILURE() << "the run went on beside a locked member folder";
  } catch (const core::UserError& e) {
    EXPECT_NE(std::string(e.what()).find("members/2: in use by pid"), std::string::npos) << e.what();
  }
}

TEST(PopulationRunner, AsynchronousModeFinishesEveryMember) {
  // More members than threads take turns: every member starts its first interval before any
  // member starts its second (a task per interval let one member run to its end first). That is
  // a property of when intervals start, so it is read from the trainables' train calls, not from
  // runner.history(): history is in the order intervals finished, and with `parallel` real
  // threads a member's first interval can finish after the others have trained many (its thread
  // descheduled, or waiting for the runner's lock). Measured with three threads on two cores: in
  // 50 runs the others had reached step 40 before the last first interval was recorded, and a
  // run where one reached 60 failed the old assertion. Likewise a thread that has taken a
  // member's turn may reach its train call after another thread's next turn has begun, so a
  // second interval waits for every first one to begin; a member that never gets its first turn
  // makes that wait end at a deadline and the test fail, instead of hanging.
  const int population = 6;
  std::mutex log_mutex;
  std::condition_variable started_one;
  std::set<const core::Trainable*> started;  // the members' trainables that have begun an interval
  int before_every_first = 0;                // later intervals begun while a member had none
  const tasks::testing::HookedFactory factory([&](const core::Trainable& t) {
    std::unique_lock<std::mutex> lock(log_mutex);
    if (started.insert(&t).second) {
      started_one.notify_all();
    } else if (!started_one.wait_for(lock, std::chrono::seconds(10),
                                     [&] { return static_cast<int>(started.size()) == population; })) {
      ++before_every_first;
    }
  });
  const core::SearchSpace space = branin_space();
  const std::string dir = fresh_dir("async");
  store::SqliteStore store(dir + "/store.sqlite");
  PbtOptions o = options();
  o.synchronous = false;
  o.population = population;
  o.parallel = 3;
  PopulationRunner runner(o, space, factory, store, dir, 5);
  runner.run();
  for (int i = 0; i < runner.size(); ++i) EXPECT_EQ(runner.steps(i), 60);
  EXPECT_GT(store.count_events("exploit"), 0);
  EXPECT_EQ(static_cast<int>(started.size()), population);
  EXPECT_EQ(before_every_first, 0) << "a member started its second interval before another started its first";
  EXPECT_TRUE(std::isfinite(runner.score(runner.best())));
}

// `parallel` members train side by side even beyond the cores (TBB caps its workers at the
// cores unless told otherwise; the old runner trained hardware_concurrency members at a time):
// each member's first interval waits until all `parallel` members are inside one.
TEST(PopulationRunner, ParallelMembersTrainSideBySideBeyondTheCores) {
  for (const bool synchronous : {true, false}) {
    const int parallel = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) + 2;
    tasks::testing::Rendezvous meeting(parallel, std::chrono::seconds(10));
    std::atomic<int> alone{0};  // members whose first interval found fewer than `parallel` inside
    const tasks::testing::HookedFactory factory([&](const core::Trainable& t) {
      if (t.steps_done() == 0 && !meeting.arrive()) ++alone;
    });
    const core::SearchSpace space = branin_space();
    const std::string dir = fresh_dir(synchronous ? "side_by_side_sync" : "side_by_side_async");
    store::SqliteStore store(dir + "/store.sqlite");
    PbtOptions o = options();
    o.synchronous = synchronous;
    o.population = parallel;
    o.parallel = parallel;
    o.max_budget = 10;
    PopulationRunner runner(o, space, factory, store, dir, 2);
    runner.run();
    for (int i = 0; i < runner.size(); ++i) EXPECT_EQ(runner.steps(i), 10) << synchronous;
    EXPECT_EQ(alone.load(), 0) << (synchronous ? "sync" : "async") << ": of " << parallel << " members";
  }
}

// A kill in async mode: the run directory is copied right after the 7th commit, while other
// members are mid-interval (their unfinished work is lost, as in a SIGKILL), and resumed
// elsewhere: every member then finishes, keeps the committed history, and every copy still
// points to a state that existed. Async results depend on timing, so no equality is asked.
TEST(PopulationRunner, AsynchronousRunKilledMidwayResumesFromAMovedDirectory) {
  const auto factory = tasks::make_synthetic_factory("branin");
  const core::SearchSpace space = branin_space();
  PbtOptions o = options();
  o.synchronous = false;
  o.population = 6;
  o.parallel = 3;
  const std::string dir = fresh_dir("async_running");
  const std::string moved = fresh_dir("async_moved");
  std::vector<MemberRecord> committed;
  {
    store::SqliteStore store(dir + "/store.sqlite");
    PopulationRunner runner(o, space, *factory, store, dir, 5);
    int commits = 0;
    runner.run([&] {
      // Called with the population's lock held, right after a commit: nothing writes now.
      if (++commits == 7) {
        fs::copy(dir, moved, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
        committed = runner.history();
      }
      return true;
    });
    ASSERT_EQ(committed.size(), 7u);
  }
  fs::remove_all(dir);  // the old place is gone: checkpoints are found relative to the run directory

  store::SqliteStore store(moved + "/store.sqlite");
  PopulationRunner runner(o, space, *factory, store, moved, 5);
  ASSERT_TRUE(runner.resume());
  EXPECT_EQ(runner.rounds(), 7);
  runner.run();
  // A state existed if a member was scored in it, or copied it (async: a member that has just
  // exploited offers the copy).
  std::set<std::pair<int, std::int64_t>> existed;
  for (const auto& h : runner.history()) {
    if (std::isfinite(h.score)) existed.insert({h.member, h.step});
  }
  for (const auto& e : runner.lineage()) {
    if (e.kind == "exploit") existed.insert({e.member, e.donor_step});
  }
  ASSERT_GE(runner.history().size(), committed.size());
  for (std::size_t k = 0; k < committed.size(); ++k) {
    EXPECT_EQ(runner.history()[k].member, committed[k].member);
    EXPECT_EQ(runner.history()[k].step, committed[k].step);
  }
  for (int i = 0; i < runner.size(); ++i) EXPECT_EQ(runner.steps(i), 60) << i;
  for (const auto& e : runner.lineage()) {
    if (e.kind != "exploit") continue;
    EXPECT_TRUE(existed.count({e.donor, e.donor_step})) << e.donor << "@" << e.donor_step;
  }
  EXPECT_TRUE(std::isfinite(runner.score(runner.best())));
  EXPECT_LT(runner.score(runner.best()), 5.0);
}

}  // namespace
}  // namespace graybox::pbt
