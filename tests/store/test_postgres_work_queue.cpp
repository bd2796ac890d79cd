// PostgresStore's work queue (store/postgres_work_queue.cpp) on a throwaway server, with a toy
// controller: a worker's turn in one transaction, a result whose COMMIT landed but whose
// acknowledgment was lost, and a study of schema version 2 migrated and finished.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>

#include "store/postgres_store.hpp"
#include "tests/store/backends.hpp"

namespace graybox::store {
namespace {

using Queue = core::WorkQueue;

// Starts `total` trials one by one (trial t gets budget 1 and config {"x": t}); the log's
// entries are "job T", "result T" and "done".
class Countdown final : public Queue::Decider {
 public:
  static std::string first_state(int total, int next = 0, int outstanding = 0) {
    return nlohmann::json{{"total", total}, {"next", next}, {"outstanding", outstanding}}.dump();
  }
  std::int64_t applied() const override { return applied_; }
  void start(const std::string& first) override {
    state_ = nlohmann::json::parse(first);
    applied_ = 0;
    ++starts;
  }
  void apply(const std::string& entry) override {
    if (entry.rfind("result", 0) == 0) {
      state_["outstanding"] = state_["outstanding"].get<int>() - 1;
    } else {
      std::optional<Queue::NewJob> queue;
      bool done = false;
      const std::string mine = decide(queue, done);
      if (mine != entry) throw std::runtime_error("log says " + entry + ", this controller " + mine);
    }
    last_ = entry;
    ++applied_;
    ++applies;
  }
  int applies = 0;  // entries applied from the log (not decided by this decider)
  std::string react(const Queue::Job& job, const Queue::Result&) override {
    state_["outstanding"] = state_["outstanding"].get<int>() - 1;
    ++applied_;
    last_ = "result";
    return "result " + std::to_string(job.trial);
  }
  std::string suggest(std::optional<Queue::NewJob>& queue, bool& done) override {
    std::string entry = decide(queue, done);
    if (entry == "done" && last_ == "done") return "";  // the log holds it already
    if (!entry.empty()) ++applied_;
    last_ = entry.empty() ? last_ : entry;
    return entry;
  }
  void forget() override { applied_ = 0; }
  // With `snapshots`, the state after applied() entries, and a start from one.
  std::string snapshot() const override {
    return snapshots ? nlohmann::json{{"state", state_}, {"last", last_}}.dump() : std::string();
  }
  bool resume_from(const std::string& snapshot, std::int64_t applied) override {
    if (!snapshots) return false;
    const nlohmann::json s = nlohmann::json::parse(snapshot);
    state_ = s.at("state");
    last_ = s.at("last").get<std::string>();
    applied_ = applied;
    ++resumes;
    return true;
  }
  int starts = 0, resumes = 0;
  bool snapshots = false;

 private:
  std::string decide(std::optional<Queue::NewJob>& queue, bool& done) {
    const int next = state_["next"].get<int>();
    if (next < state_["total"].get<int>()) {
      state_["next"] = next + 1;
      state_["outstanding"] = state_["outstanding"].get<int>() + 1;
      queue = Queue::NewJob{next, 1, nlohmann::json{{"x", next}}.dump()};
      return "job " + std::to_string(next);
    }
    done = state_["outstanding"].get<int>() == 0;
    return done ? "done" : "";
  }
  nlohmann::json state_;
  std::int64_t applied_ = 0;
  std::string last_;  // the last entry applied
};

Queue::Result result_of(const Queue::Job& job) {
  return {0.5 * static_cast<double>(job.trial), -0.5 * static_cast<double>(job.trial), "ok", 1, 0.01,
          "trials/" + std::to_string(job.trial)};
}

// Turns until the study is done; returns the number of results committed.
int work_to_the_end(PostgresStore& store, Queue::Decider& decider, const std::string& worker,
                    const std::optional<Queue::Job>& holding = std::nullopt, int max_turns = 100) {
  std::optional<std::pair<Queue::Job, Queue::Result>> finished;
  if (holding) finished = std::make_pair(*holding, result_of(*holding));
  int committed = 0;
  for (int turns = 0; turns < max_turns; ++turns) {
    const Queue::Turn turn = store.turn(finished, true, worker, 30.0, decider);
    committed += turn.accepted ? 1 : 0;
    finished.reset();
    if (turn.next) finished = std::make_pair(*turn.next, result_of(*turn.next));
    else if (turn.done) return committed;
  }
  ADD_FAILURE() << "no end after " << max_turns << " turns";
  return committed;
}

std::string fresh_url(const std::string& name) {
  return graybox::testing::fresh_storage_url("postgresql", "wq_" + name);
}

std::int64_t count(const std::string& url, const std::string& query) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  return tx.exec(query)[0][0].as<std::int64_t>();
}

TEST(PostgresWorkQueue, EachJobIsOneTurnAppendingItsResultAndTheNextDecision) {
  const std::string url = fresh_url("turns");
  PostgresStore store(url, "s");
  ASSERT_TRUE(store.create_study("/tmp/s", Countdown::first_state(5)));
  Countdown decider;
  EXPECT_EQ(work_to_the_end(store, decider, "w1"), 5);
  const std::vector<std::string> expected = {"job 0",    "result 0", "job 1",    "result 1", "job 2", "result 2",
                                             "job 3",    "result 3", "job 4",    "result 4", "done"};
  EXPECT_EQ(store.decisions(), expected);
  EXPECT_EQ(store.controller_state(), Countdown::first_state(5));  // the first state stays; the log grows
  EXPECT_EQ(decider.starts, 1);
  // A result, the reaction and the next job's decision commit together: one transaction id.
  EXPECT_EQ(count(url, "SELECT COUNT(DISTINCT xmin::TEXT) FROM graybox_decisions"), 6);
  EXPECT_EQ(count(url, "SELECT COUNT(*) FROM graybox_jobs j JOIN graybox_metrics m ON m.trial = j.trial"
                       " AND m.name = 'tune/score' AND m.xmin::TEXT = j.xmin::TEXT WHERE j.state = 'done'"),
            5);
  EXPECT_EQ(store.counts().done, 5);
  EXPECT_EQ(store.trials().size(), 5u);

  // A second worker starting afresh replays the log and agrees with it.
  Countdown late;
  const Queue::Turn turn = store.turn(std::nullopt, true, "w2", 30.0, late);
  EXPECT_TRUE(turn.done);
  EXPECT_FALSE(turn.next);
  EXPECT_EQ(late.applied(), 11);
  EXPECT_EQ(store.decisions().size(), 11u);  // done is logged once
}

TEST(PostgresWorkQueue, AResultWhoseCommitAcknowledgmentWasLostIsCommittedNotRefused) {
  const std::string url = fresh_url("lost_ack");
  PostgresStore store(url, "s");
  ASSERT_TRUE(store.create_study("/tmp/s", Countdown::first_state(3)));
  Countdown decider;
  const Queue::Turn first = store.turn(std::nullopt, true, "w1", 30.0, decider);
  ASSERT_TRUE(first.next);
  // The turn that commits trial 0's result lands, but the connection drops before the
  // acknowledgment: the turn runs again and must find the result committed, not refuse it (the
  // old finish() recorded a refusal, and the worker deleted the committed checkpoint).
  store.lose_next_commit_ack();
  const Queue::Turn second = store.turn(std::make_pair(*first.next, result_of(*first.next)), true, "w1", 30.0, decider);
  EXPECT_TRUE(second.accepted);
  ASSERT_TRUE(second.next);
  EXPECT_EQ(second.next->trial, 1);  // the job the lost turn claimed, taken again
  EXPECT_EQ(count(url, "SELECT COUNT(*) FROM graybox_events WHERE kind = 'refused_result'"), 0);
  EXPECT_EQ(work_to_the_end(store, decider, "w1", second.next) + 1, 3);
  EXPECT_EQ(decider.starts, 2);  // the controller was rebuilt from the log after the lost turn
  EXPECT_EQ(count(url, "SELECT COUNT(*) FROM graybox_metrics WHERE name = 'tune/score'"), 3);
  EXPECT_EQ(count(url, "SELECT COUNT(*) FROM graybox_jobs"), 3);
  const std::vector<std::string> expected = {"job 0", "result 0", "job 1", "result 1", "job 2", "result 2", "done"};
  EXPECT_EQ(store.decisions(), expected);
}

TEST(PostgresWorkQueue, AStudyOfSchemaVersion2IsMigratedAndFinished) {
  const std::string url = fresh_url("v2");
  {
    // The study as graybox with schema 2 left it: 2 results, trial 2 queued, the whole controller
    // state in graybox_studies.
    pqxx::connection c(url);
    pqxx::work tx(c);
    tx.exec("CREATE TABLE graybox_schema (version INTEGER NOT NULL)");
    tx.exec(PostgresStore::migration(1));
    tx.exec(PostgresStore::migration(2));
    tx.exec("INSERT INTO graybox_schema VALUES (2)");
    tx.exec("INSERT INTO graybox_studies VALUES ('s', '/tmp/s', '" + Countdown::first_state(5, 3, 1) + "')");
    tx.exec("INSERT INTO graybox_jobs (study, trial, budget, config, state, attempt, checkpoint, committed, loss, score, status,"
            " steps, seconds) VALUES ('s', 0, 1, '{\"x\":0}', 'done', 1, 'trials/0', nextval('graybox_commit_order'), 0, 0, 'ok', 1, 0),"
            " ('s', 1, 1, '{\"x\":1}', 'done', 1, 'trials/1', nextval('graybox_commit_order'), 0.5, -0.5, 'ok', 1, 0)");
    tx.exec("INSERT INTO graybox_jobs (study, trial, budget, config) VALUES ('s', 2, 1, '{\"x\":2}')");
    tx.commit();
  }
  PostgresStore store(url, "s");
  EXPECT_EQ(count(url, "SELECT version FROM graybox_schema"), PostgresStore::kSchemaVersion);
  EXPECT_EQ(count(url, "SELECT COUNT(*) FROM graybox_snapshots"), 0);
  EXPECT_EQ(count(url, "SELECT COUNT(*) FROM pg_indexes WHERE indexname IN ('graybox_jobs_open', 'graybox_jobs_last_checkpoint')"), 2);
  Countdown decider;
  EXPECT_EQ(work_to_the_end(store, decider, "w1"), 3);  // trial 2 (queued before), then 3 and 4
  const std::vector<std::string> expected = {"result 2", "job 3", "result 3", "job 4", "result 4", "done"};
  EXPECT_EQ(store.decisions(), expected);
  EXPECT_EQ(store.counts().done, 5);
  EXPECT_EQ(count(url, "SELECT COUNT(DISTINCT trial) FROM graybox_jobs WHERE state = 'done'"), 5);
}

// A snapshot of the controller every kSnapshotEvery entries, in the turn that passes it: a worker
// that joins a long study starts from the latest one and applies only the entries after it, and
// reaches the same decisions as one that replayed the whole log.
TEST(PostgresWorkQueue, ALateWorkerStartsFromTheLatestSnapshotNotTheWholeLog) {
  const std::string url = fresh_url("snapshots");
  PostgresStore store(url, "s");
  ASSERT_TRUE(store.create_study("/tmp/s", Countdown::first_state(130)));
  Countdown first;
  first.snapshots = true;
  EXPECT_EQ(work_to_the_end(store, first, "w1", std::nullopt, 400), 130);
  const std::int64_t entries = static_cast<std::int64_t>(store.decisions().size());  // 130 jobs, 130 results, done
  EXPECT_EQ(entries, 261);
  // A turn appends a result and the next job: the snapshot is at the end of the turn that passed 100 and 200.
  EXPECT_EQ(count(url, "SELECT COUNT(*) FROM graybox_snapshots WHERE study = 's'"), 2);
  const std::int64_t latest = count(url, "SELECT MAX(seq) FROM graybox_snapshots WHERE study = 's'");
  EXPECT_GE(latest, 200);
  EXPECT_LE(latest, 201);

  Countdown late;
  late.snapshots = true;
  const Queue::Turn turn = store.turn(std::nullopt, true, "late", 30.0, late);
  EXPECT_TRUE(turn.done);
  EXPECT_EQ(late.resumes, 1);
  EXPECT_EQ(late.starts, 0);
  EXPECT_EQ(late.applies, entries - latest);  // only what came after the snapshot
  EXPECT_EQ(late.applied(), entries);

  Countdown whole;  // keeps no snapshots: starts from the first state, replays everything
  EXPECT_TRUE(store.turn(std::nullopt, true, "whole", 30.0, whole).done);
  EXPECT_EQ(whole.starts, 1);
  EXPECT_EQ(whole.applies, entries);
}

}  // namespace
}  // namespace graybox::store
