// What every backend of core::Store must do, one test body per property, run against each
// backend (tests/store/backends.hpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/store.hpp"
#include "store/open_store.hpp"
#include "tests/store/backends.hpp"

namespace graybox::store {
namespace {

class StoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    url_ = parse_storage_url(graybox::testing::fresh_storage_url(GetParam(), info->name()), "test");
  }
  std::unique_ptr<core::Store> open(const std::string& study = "default") const { return open_store(url_, study); }

  StorageUrl url_;
};

TEST_P(StoreConformance, WritesAndReadsMetrics) {
  {
    auto store = open();
    store->add_metric(0, 100, "losses/value_loss", 0.5);
    store->add_metric(0, 100, "charts/episodic_return", 12.0);
    store->add_metric(0, 200, "losses/value_loss", std::nan(""));
    store->add_event(0, 200, "unstable_episode", "env 0");
    store->add_hyperparameter(0, 0, "learning_rate", 3e-4);
    store->commit();
    store->set_meta("graybox_version", "0.1.0");
  }
  auto store = open();
  const auto rows = store->metrics(0, "losses/value_loss");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].step, 100);
  EXPECT_DOUBLE_EQ(rows[0].value, 0.5);
  EXPECT_TRUE(std::isnan(rows[1].value));
  EXPECT_EQ(store->metrics().size(), 3u);
  EXPECT_EQ(store->count_events("unstable_episode"), 1);
  EXPECT_EQ(store->meta("graybox_version"), "0.1.0");
  EXPECT_EQ(store->meta("missing"), "");
  EXPECT_EQ(store->last_step(0), 200);
  EXPECT_EQ(store->last_step(7), -1);
}

TEST_P(StoreConformance, UncommittedRowsAreNotVisibleAndTheDestructorCommits) {
  auto writer = open();
  writer->add_metric(0, 1, "x", 1.0);
  EXPECT_TRUE(open()->metrics().empty());
  writer.reset();
  EXPECT_EQ(open()->metrics().size(), 1u);
}

TEST_P(StoreConformance, TruncateAfterDropsLaterRows) {
  auto store = open();
  for (int step = 1; step <= 5; ++step) {
    store->add_metric(0, step * 10, "x", step);
    store->add_event(0, step * 10, "e", "");
  }
  store->add_metric(1, 50, "x", 1.0);
  store->commit();
  store->truncate_after(0, 30);
  EXPECT_EQ(store->metrics(0, "x").size(), 3u);
  EXPECT_EQ(store->count_events("e"), 3);
  EXPECT_EQ(store->metrics(1, "x").size(), 1u);
}

TEST_P(StoreConformance, ExportsAWideCsv) {
  auto store = open();
  store->add_metric(0, 10, "b", 2.0);
  store->add_metric(0, 10, "a", 1.0);
  store->add_metric(0, 20, "a", 3.0);
  store->commit();
  const std::string csv_path = ::testing::TempDir() + "/graybox_conformance_" + GetParam() + "_" +
                               std::to_string(::getpid()) + ".csv";
  store->export_csv(csv_path);
  std::ifstream in(csv_path);
  std::stringstream csv;
  csv << in.rdbuf();
  EXPECT_EQ(csv.str(), "trial,step,a,b\n0,10,1,2\n0,20,3,\n");
}

// Issue 11 item 4: two writers of one (trial, step, name) cannot both land; a row may only fill
// a missing value (a diverged interval trained again), and set_metric replaces on purpose.
TEST_P(StoreConformance, RefusesADuplicateMetricRow) {
  auto store = open();
  store->add_metric(0, 100, "losses/value_loss", 0.5);
  store->add_metric(1, 100, "pbt/score", std::nan(""));
  store->add_metric(0, 200, "charts/episodic_return", 1.0);  // two episodes that end at one step
  store->add_metric(0, 200, "charts/episodic_return", 2.0);
  store->commit();
  store->add_metric(0, 100, "losses/value_loss", 0.7);
  store->add_event(0, 100, "lost", "");
  EXPECT_THROW(store->commit(), std::logic_error);
  auto other = open();  // the failed transaction left nothing behind
  ASSERT_EQ(other->metrics(0, "losses/value_loss").size(), 1u);
  EXPECT_DOUBLE_EQ(other->metrics(0, "losses/value_loss")[0].value, 0.5);
  EXPECT_EQ(other->count_events("lost"), 0);
  other->add_metric(1, 100, "pbt/score", 3.0);
  other->set_metric(0, 100, "losses/value_loss", 0.9);
  other->commit();
  EXPECT_DOUBLE_EQ(other->metrics(1, "pbt/score").at(0).value, 3.0);
  EXPECT_DOUBLE_EQ(other->metrics(0, "losses/value_loss").at(0).value, 0.9);
  EXPECT_EQ(other->metrics().size(), 4u);
}

TEST_P(StoreConformance, ATrialRowIsReplacedAsTheTrialAdvances) {
  {
    auto store = open();
    store->upsert_trial({3, "{\"x\":1}", 3, 0.5, -0.5, "ok"});
    store->upsert_trial({1, "{\"x\":2}", 1, INFINITY, std::nan(""), "diverged"});
    store->commit();
    store->upsert_trial({3, "{\"x\":1}", 9, 0.25, -0.25, "ok"});
    store->commit();
  }
  const auto rows = open()->trials();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].trial, 1);
  EXPECT_TRUE(std::isnan(rows[0].loss));  // not finite: no value
  EXPECT_EQ(rows[0].status, "diverged");
  EXPECT_EQ(rows[1].trial, 3);
  EXPECT_EQ(rows[1].config, "{\"x\":1}");
  EXPECT_EQ(rows[1].budget, 9);
  EXPECT_DOUBLE_EQ(rows[1].score, -0.25);
}

TEST_P(StoreConformance, StudiesSharingADatabaseSeeOnlyTheirOwnRows) {
  auto a = open("a"), b = open("b");
  a->add_metric(0, 1, "x", 1.0);
  a->add_event(0, 1, "e", "");
  a->upsert_trial({0, "{}", 1, 0.0, 0.0, "ok"});
  a->set_meta_on_commit("k", "of a");
  a->append_state("log", "a1");
  a->commit();
  b->add_metric(0, 1, "x", 2.0);  // the same (trial, step, name) in another study is no duplicate
  b->commit();
  EXPECT_DOUBLE_EQ(b->metrics().at(0).value, 2.0);
  EXPECT_EQ(b->metrics().size(), 1u);
  EXPECT_EQ(b->count_events("e"), 0);
  EXPECT_TRUE(b->trials().empty());
  EXPECT_EQ(b->meta("k"), "");
  EXPECT_TRUE(b->state_log("log").empty());
  b->truncate_after(0, 0);
  EXPECT_EQ(a->metrics().size(), 1u);
  EXPECT_EQ(a->meta("k"), "of a");
}

TEST_P(StoreConformance, AStateLogKeepsItsEntriesInOrder) {
  {
    auto store = open();
    store->append_state("tune", "one");
    store->append_state("pbt", "other");
    store->append_state("tune", "two");
    store->commit();
    store->append_state("tune", "three");
    store->commit();
  }
  auto store = open();
  EXPECT_EQ(store->state_log("tune"), (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(store->state_log_bytes("tune"), 11);
  EXPECT_EQ(store->state_log("pbt"), std::vector<std::string>{"other"});
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::ValuesIn(graybox::testing::store_backends()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace graybox::store
