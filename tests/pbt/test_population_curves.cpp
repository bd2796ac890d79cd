// Learning curves of population members: every member's metrics reach the run store, and a
// member that goes back to an earlier step (a rollback: test_population.cpp's
// DivergedMembersRollBackAndThePopulationSurvives) replaces the values it re-trains instead of
// adding rows.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <tuple>

#include "store/sqlite_store.hpp"
#include "pbt/population_runner.hpp"
#include "tasks/synthetic_task.hpp"

namespace fs = std::filesystem;

namespace graybox::pbt {
namespace {

std::string member_dir(const std::string& name) {
  const std::string dir = (fs::temp_directory_path() / ("graybox_pbt_curves_" + name + "_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// The runner keeps a reference to its search space: one that outlives every runner.
const core::SearchSpace& space2() {
  static const core::SearchSpace space({core::Dimension{"x1", core::DimensionType::kFloat, -5, 10, false, {}, "", {}},
                            core::Dimension{"x2", core::DimensionType::kFloat, 0, 15, false, {}, "", {}}});
  return space;
}

PbtOptions small(bool synchronous) {
  PbtOptions o;
  o.population = 6;
  o.interval = 5;
  o.max_budget = 40;
  o.parallel = 2;
  o.synchronous = synchronous;
  return o;
}

// (member, step) -> the values recorded for `name` there.
std::map<std::pair<std::int64_t, std::int64_t>, std::vector<double>> rows(const core::Store& store,
                                                                         const std::string& name) {
  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<double>> out;
  for (const auto& r : store.metrics(-1, name)) out[{r.trial, r.step}].push_back(r.value);
  return out;
}

TEST(PopulationCurves, EveryMemberLeavesOneRowPerIntervalAndItsScoreMatches) {
  const auto factory = tasks::make_synthetic_factory("branin");
  const std::string dir = member_dir("sync");
  store::SqliteStore store(dir + "/store.sqlite");
  PopulationRunner runner(small(true), space2(), *factory, store, dir, 4);
  runner.run();
  const auto objective = rows(store, "objective"), score = rows(store, "pbt/score");
  for (int m = 0; m < runner.size(); ++m) {
    for (std::int64_t step = 5; step <= 40; step += 5) {
      ASSERT_TRUE(objective.count({m, step})) << "member " << m << " step " << step;
      ASSERT_EQ(objective.at({m, step}).size(), 1u) << "member " << m << " step " << step;
      EXPECT_EQ(objective.at({m, step}).front(), score.at({m, step}).front()) << "member " << m << " step " << step;
    }
  }
  // The starting values of every member are its first hyperparameter rows (the trajectory's
  // origin), written with the first commit.
  EXPECT_EQ(store.count_events("start"), runner.size());
}

TEST(PopulationCurves, AsynchronousCurvesHoldOneRowPerStepWithItsLatestScore) {
  const auto factory = tasks::make_synthetic_factory("branin");
  const std::string dir = member_dir("async");
  store::SqliteStore store(dir + "/store.sqlite");
  PopulationRunner runner(small(false), space2(), *factory, store, dir, 6);
  runner.run();
  const auto objective = rows(store, "objective");
  for (const auto& [key, values] : objective) {
    EXPECT_EQ(values.size(), 1u) << "member " << key.first << " step " << key.second;
  }
  // Every interval a member finished is on its curve, with the score of the latest time it
  // trained that step (a member that copied a finished donor ends on the donor's steps, which
  // it did not train itself: the lineage's exploit event says so).
  std::map<std::pair<std::int64_t, std::int64_t>, double> latest;
  for (const auto& h : runner.history()) latest[{h.member, h.step}] = h.score;
  ASSERT_GT(store.count_events("exploit"), 0);
  for (const auto& [key, score] : latest) {
    ASSERT_TRUE(objective.count(key)) << "member " << key.first << " step " << key.second;
    EXPECT_EQ(objective.at(key).front(), score) << "member " << key.first << " step " << key.second;
  }
}

TEST(PopulationCurves, AResumedRunLeavesTheCurvesOfAnUninterruptedOne) {
  const auto factory = tasks::make_synthetic_factory("branin_mf");
  const std::string whole = member_dir("whole"), dir = member_dir("killed");
  {
    store::SqliteStore store(whole + "/store.sqlite");
    PopulationRunner runner(small(true), space2(), *factory, store, whole, 9);
    runner.run();
  }
  {
    store::SqliteStore store(dir + "/store.sqlite");
    PopulationRunner runner(small(true), space2(), *factory, store, dir, 9);
    int rounds = 0;
    runner.run([&] { return ++rounds < 3; });
  }
  store::SqliteStore store(dir + "/store.sqlite");
  PopulationRunner runner(small(true), space2(), *factory, store, dir, 9);
  ASSERT_TRUE(runner.resume());
  runner.run();
  store::SqliteStore straight(whole + "/store.sqlite");
  EXPECT_EQ(rows(store, "objective"), rows(straight, "objective"));
}

}  // namespace
}  // namespace graybox::pbt
