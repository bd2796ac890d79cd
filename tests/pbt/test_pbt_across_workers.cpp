// PBT and PB2 across workers (issue 15): three controllers::StudyWorker threads, each with its
// own connection to a throwaway PostgreSQL, train a synchronous population through
// pbt::PbtController, and reach exactly what PopulationRunner reaches in one process on SQLite
// with the same seed: the same scores, values, history and lineage, rollbacks included; every
// exploit starts from a committed checkpoint that exists.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>
#include <tuple>
#include <vector>

#include "controllers/study_worker.hpp"
#include "pbt/pbt_controller.hpp"
#include "pbt/population_runner.hpp"
#include "store/open_store.hpp"
#include "store/sqlite_store.hpp"
#include "tests/support/throwaway_postgres.hpp"
#include "tests/pbt/pbt_test_support.hpp"
#include "tests/tasks/synthetic_factory_wrapper.hpp"

namespace fs = std::filesystem;

namespace graybox::pbt {
namespace {

using testing::branin_space;
using testing::fresh_dir;

PbtOptions options(const std::string& algorithm) {
  PbtOptions o;
  o.algorithm = algorithm;
  o.population = 6;
  o.interval = 4;
  o.max_budget = 24;
  return o;
}

// What the comparison reads of an event: everything but the hyperparameters (a worker's event
// holds only the tuned ones) and the checkpoint (in memory in one process).
using EventKey = std::tuple<std::string, int, int, std::int64_t, std::int64_t, std::string, std::string>;
EventKey key_of(const LineageEvent& e) {
  return {e.kind, e.member, e.donor, e.member_step, e.donor_step, e.old_config.dump(), e.new_config.dump()};
}

void expect_same_population(const Population& one, const Population& workers, const std::string& what) {
  ASSERT_EQ(one.size(), workers.size()) << what;
  for (int i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one.member(i).steps, workers.member(i).steps) << what << " member " << i;
    EXPECT_TRUE(one.member(i).config == workers.member(i).config) << what << " member " << i;
    const double a = one.member(i).score, b = workers.member(i).score;
    EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << what << " member " << i << ": " << a << " vs " << b;
  }
  EXPECT_EQ(one.rounds(), workers.rounds()) << what;
  EXPECT_EQ(one.total_steps(), workers.total_steps()) << what;
  ASSERT_EQ(one.history().size(), workers.history().size()) << what;
  for (std::size_t k = 0; k < one.history().size(); ++k) {
    const MemberRecord& a = one.history()[k];
    const MemberRecord& b = workers.history()[k];
    EXPECT_EQ(a.member, b.member) << what;
    EXPECT_EQ(a.step, b.step) << what;
    EXPECT_TRUE(a.score == b.score || (std::isnan(a.score) && std::isnan(b.score))) << what << " row " << k;
  }
  ASSERT_EQ(one.lineage().size(), workers.lineage().size()) << what;
  for (std::size_t k = 0; k < one.lineage().size(); ++k) {
    EXPECT_EQ(key_of(one.lineage()[k]), key_of(workers.lineage()[k])) << what << " event " << k;
  }
}

TEST(PbtAcrossWorkers, ThreeWorkersOnPostgresDecideWhatOneProcessDecidesOnSqlite) {
  graybox::testing::ThrowawayPostgres server;
  const core::SearchSpace space = branin_space();
  const tasks::testing::DivergingFactory diverging;
  const auto branin = tasks::make_synthetic_factory("branin");
  const std::uint64_t seed = 7;
  for (const auto& [algorithm, factory] :
       std::vector<std::pair<std::string, const core::TrialFactory*>>{{"pbt", &diverging}, {"pb2", branin.get()}}) {
    const PbtOptions o = options(algorithm);
    const std::string one_dir = fresh_dir(algorithm + "_one");
    store::SqliteStore sqlite(one_dir + "/store.sqlite");
    PopulationRunner one(o, space, *factory, sqlite, one_dir, seed);
    one.run();

    const std::string dir = fresh_dir(algorithm + "_workers");
    const store::StorageUrl url = store::parse_storage_url(server.url(), "--storage");
    const auto make = [&]() -> std::unique_ptr<controllers::Controller> {
      return std::make_unique<PbtController>(o, space, *factory, seed);
    };
    ASSERT_TRUE(store::open_shared_study(url, algorithm, "--storage")->create_study(dir, make()->state().dump()));
    std::vector<std::thread> threads;
    std::vector<int> committed(3, 0);
    for (int w = 0; w < 3; ++w) {
      threads.emplace_back([&, w] {
        auto queue = store::open_shared_study(url, algorithm, "--storage");
        controllers::WorkerOptions wo;
        wo.name = "thread" + std::to_string(w);
        wo.lease_seconds = 30;
        wo.quiet = true;
        controllers::StudyWorker worker(
            space, *factory, make, *queue,
            [&]() -> std::unique_ptr<core::WorkQueue> { return store::open_shared_study(url, algorithm, "--storage"); }, dir, seed,
            o.max_budget, wo);
        committed[static_cast<std::size_t>(w)] = worker.run();
      });
    }
    for (auto& t : threads) t.join();
    auto queue = store::open_shared_study(url, algorithm, "--storage");
    const auto controller = controllers::replay_study(make, *queue);
    const auto* workers = dynamic_cast<const PbtController*>(controller.get());
    ASSERT_NE(workers, nullptr);
    expect_same_population(one.population(), workers->population(), algorithm);

    // One job per member and round, each committed once, by more than one worker.
    EXPECT_EQ(static_cast<std::size_t>(committed[0] + committed[1] + committed[2]), queue->results().size());
    EXPECT_EQ(queue->results().size(), one.history().size()) << algorithm;
    EXPECT_GE(std::count_if(committed.begin(), committed.end(), [](int n) { return n > 0; }), 2) << algorithm;
    int exploits = 0, rollbacks = 0;
    for (const auto& e : workers->population().lineage()) {
      if (e.kind == "start") continue;
      exploits += e.kind == "exploit" ? 1 : 0;
      rollbacks += e.kind == "rollback" ? 1 : 0;
      // Every copy names a committed checkpoint that exists (a rollback before the first
      // round's checkpoint goes back to the fresh state).
      if (e.kind == "exploit" || !e.checkpoint.empty()) {
        EXPECT_TRUE(fs::exists(dir + "/" + e.checkpoint + "/state.json")) << e.checkpoint;
      }
    }
    EXPECT_GT(exploits, 3) << algorithm;
    if (algorithm == "pbt") {
      EXPECT_GT(rollbacks, 0) << "the diverging members were never rolled back";
    }
    fs::remove_all(one_dir);
    fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace graybox::pbt
