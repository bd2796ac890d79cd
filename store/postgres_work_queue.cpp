// PostgresStore's work queue (core/work_queue.hpp): claims with FOR UPDATE SKIP LOCKED, leases
// on the server's clock, results committed only with the attempt that holds the job, and the
// controller's decisions appended to graybox_decisions under the study's row lock. A worker's
// turn is one transaction of a few prepared statements (store/postgres_store.cpp): finish (the
// job's row, score and trial in one statement), claim, and, when the controller is asked, lock,
// log_after and decide (the log's new entries and the job it queues in one statement).
#include <pqxx/pqxx>

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "store/postgres_store.hpp"

namespace graybox::store {
namespace {

using Job = core::WorkQueue::Job;
using Result = core::WorkQueue::Result;

std::optional<double> number(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }
double number(const pqxx::field& f) { return f.is_null() ? std::nan("") : f.as<double>(); }

double wall_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// A PostgreSQL array literal of `items` ({"a","b"}), for a TEXT[] parameter.
std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// The job a claim or decide statement returned (id, trial, budget, attempt, config, checkpoint).
std::optional<Job> claimed(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  return Job{r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>(), r[0][2].as<std::int64_t>(), r[0][3].as<int>(),
             r[0][4].as<std::string>(), r[0][5].as<std::string>()};
}

enum class Commit { kNow, kEarlier, kRefused };

// Commits `result` if `job`'s attempt holds the job. Zero rows changed is a refusal unless the
// job is done with this very attempt: then an earlier run of this turn committed it and only
// the acknowledgment was lost with the connection.
Commit commit_result(pqxx::transaction_base& tx, const std::string& study, const Job& job, const Result& result,
                     const std::string& worker) {
  const double wall = wall_now();
  if (tx.exec_prepared("finish", job.id, job.attempt, number(result.loss), number(result.score), result.status, result.steps,
                       result.seconds, result.checkpoint, wall)[0][0]
          .as<std::int64_t>() > 0) {
    return Commit::kNow;
  }
  const pqxx::result r = tx.exec_prepared("committed_by", job.id, job.attempt);
  if (!r.empty() && r[0][0].as<bool>()) return Commit::kEarlier;
  tx.exec_prepared("event", study, job.trial, job.budget, "refused_result",
                   "job " + std::to_string(job.id) + " attempt " + std::to_string(job.attempt) + " of " + worker, wall);
  return Commit::kRefused;
}

// Brings a decider that starts afresh up to the log, outside the study's lock: the log is read
// in a transaction of its own and applied after it (applying may take long: a model-based
// controller recomputes its suggestions), so the turn's locked transaction applies only what
// came since. Entries are appended under the lock and committed in order, so any snapshot
// holds a prefix of the log.
void catch_up(const PostgresStore& store, core::WorkQueue::Decider& decider) {
  std::string first, snapshot;
  std::int64_t snapshot_seq = 0;
  std::vector<std::string> entries;
  const auto read_log = [&](std::int64_t after) {
    store.transact([&](pqxx::transaction_base& tx) {
      const pqxx::result r = tx.exec_prepared("lock", store.study(), true);
      if (r.empty()) throw std::runtime_error("no study '" + store.study() + "' in the store");
      first = r[0][0].as<std::string>();
      snapshot.clear();
      snapshot_seq = 0;
      if (after < 0) {
        const pqxx::result s = tx.exec_prepared("latest_snapshot", store.study());
        if (!s.empty()) {
          snapshot_seq = s[0][0].as<std::int64_t>();
          snapshot = s[0][1].as<std::string>();
        }
      }
      entries.clear();
      for (const auto& row : tx.exec_prepared("log_after", store.study(), std::max<std::int64_t>(0, snapshot_seq)))
        entries.push_back(row[0].as<std::string>());
    });
  };
  read_log(-1);  // from the latest snapshot, if there is one
  if (snapshot.empty() || !decider.resume_from(snapshot, snapshot_seq)) {
    if (!snapshot.empty()) read_log(0);  // this decider cannot start from it: the whole log
    decider.start(first);
  }
  for (const auto& entry : entries) decider.apply(entry);
}

}  // namespace

bool PostgresStore::create_study(const std::string& dir, const std::string& controller_state) {
  bool created = false;
  transact([&](pqxx::transaction_base& tx) {
    created = !tx.exec_params("INSERT INTO graybox_studies (study, dir, controller) VALUES ($1, $2, $3)"
                              " ON CONFLICT (study) DO NOTHING RETURNING study",
                              study(), dir, controller_state)
                   .empty();
  });
  return created;
}

std::string PostgresStore::study_dir() {
  std::string dir;
  transact([&](pqxx::transaction_base& tx) {
    const pqxx::result r = tx.exec_params("SELECT dir FROM graybox_studies WHERE study = $1", study());
    dir = r.empty() ? "" : r[0][0].as<std::string>();
  });
  return dir;
}

core::WorkQueue::Turn PostgresStore::turn(const std::optional<std::pair<Job, Result>>& finished, bool claim,
                                          const std::string& worker, double lease_seconds, Decider& decider) {
  Turn turn;
  try {
    // A decider started by the catch-up needs no first state; one forgotten by a lost turn does.
    bool started = decider.applied() > 0;
    if (!started) catch_up(*this, decider);
    started = true;
    bool again = false;
    transact([&](pqxx::transaction_base& tx) {
      // A second run follows a lost connection: what the first applied may not have committed.
      if (again) {
        decider.forget();
        started = false;
      }
      again = true;
      turn = Turn();
      const Commit commit = finished ? commit_result(tx, study(), finished->first, finished->second, worker) : Commit::kRefused;
      turn.accepted = commit != Commit::kRefused;
      // A job running under this worker's name is one that a turn whose acknowledgment was lost
      // claimed: this worker holds one job at a time, so it takes that one again.
      if (claim) turn.next = claimed(tx.exec_prepared("claim", study(), worker, lease_seconds));
      const bool react = commit == Commit::kNow, ask = claim && !turn.next;
      if (!react && !ask) return;

      const pqxx::result locked = tx.exec_prepared("lock", study(), !started);
      if (locked.empty()) throw std::runtime_error("no study '" + study() + "' in the store");
      if (!started) decider.start(locked[0][0].as<std::string>());
      started = true;
      for (const auto& row : tx.exec_prepared("log_after", study(), decider.applied())) decider.apply(row[0].as<std::string>());
      const std::int64_t first = decider.applied() + 1;
      std::vector<std::string> entries;
      if (react) entries.push_back(decider.react(finished->first, finished->second));
      std::optional<NewJob> queue;
      if (ask) {
        std::string entry = decider.suggest(queue, turn.done);
        if (!entry.empty()) entries.push_back(std::move(entry));
      }
      if (decider.applied() != first - 1 + static_cast<std::int64_t>(entries.size())) {
        throw std::logic_error("the decider applied " + std::to_string(decider.applied() - first + 1) + " entries but returned " +
                               std::to_string(entries.size()));
      }
      if (entries.empty() && !queue) return;
      const NewJob job = queue.value_or(NewJob{});
      const std::optional<Job> queued = claimed(tx.exec_prepared("decide", study(), first, text_array(entries), queue.has_value(),
                                                                 job.trial, job.budget, job.config, worker, lease_seconds));
      // The log passed a multiple of kSnapshotEvery: the controller's state there, in this transaction.
      if ((first - 1) / kSnapshotEvery != decider.applied() / kSnapshotEvery) {
        const std::string state = decider.snapshot();
        if (!state.empty()) tx.exec_prepared("snapshot", study(), decider.applied(), state);
      }
      if (queue) turn.next = queued;
    });
  } catch (...) {
    decider.forget();
    throw;
  }
  return turn;
}

bool PostgresStore::renew(const Job& job, double lease_seconds) {
  bool held = false;
  transact([&](pqxx::transaction_base& tx) { held = !tx.exec_prepared("renew", job.id, job.attempt, lease_seconds).empty(); });
  return held;
}

void PostgresStore::release(const Job& job) {
  transact([&](pqxx::transaction_base& tx) { tx.exec_prepared("release", job.id, job.attempt); });
}

core::WorkQueue::Counts PostgresStore::counts() {
  Counts c;
  transact([&](pqxx::transaction_base& tx) {
    c = Counts();
    for (const auto& row : tx.exec_params("SELECT state, COUNT(*) FROM graybox_jobs WHERE study = $1 GROUP BY state", study())) {
      const std::string state = row[0].as<std::string>();
      const std::int64_t n = row[1].as<std::int64_t>();
      (state == "queued" ? c.queued : state == "running" ? c.running : c.done) += n;
    }
  });
  return c;
}

std::vector<std::pair<Job, Result>> PostgresStore::results() {
  std::vector<std::pair<Job, Result>> rows;
  transact([&](pqxx::transaction_base& tx) {
    rows.clear();
    for (const auto& r : tx.exec_params(
             "SELECT id, trial, budget, attempt, config, loss, score, status, steps, seconds, COALESCE(checkpoint, '')"
             " FROM graybox_jobs WHERE study = $1 AND state = 'done' ORDER BY committed",
             study())) {
      Job job{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>(), r[3].as<int>(), r[4].as<std::string>(),
              std::string()};
      Result result{number(r[5]), number(r[6]), r[7].as<std::string>(), r[8].as<std::int64_t>(), r[9].as<double>(),
                    r[10].as<std::string>()};
      rows.emplace_back(std::move(job), std::move(result));
    }
  });
  return rows;
}

std::string PostgresStore::controller_state() {
  std::string state;
  transact([&](pqxx::transaction_base& tx) {
    const pqxx::result r = tx.exec_params("SELECT controller FROM graybox_studies WHERE study = $1", study());
    state = r.empty() ? "" : r[0][0].as<std::string>();
  });
  return state;
}

std::vector<std::string> PostgresStore::decisions(std::int64_t after) {
  std::vector<std::string> entries;
  transact([&](pqxx::transaction_base& tx) {
    entries.clear();
    for (const auto& row : tx.exec_prepared("log_after", study(), after)) entries.push_back(row[0].as<std::string>());
  });
  return entries;
}

}  // namespace graybox::store
