// PostgresStore's work queue (core/work_queue.hpp): claims with FOR UPDATE SKIP LOCKED, leases
// on the server's clock, results committed only with the attempt that holds the job.
#include <pqxx/pqxx>

#include <chrono>
#include <cmath>

#include "store/postgres_store.hpp"

namespace graybox::store {
namespace {

std::optional<double> number(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }
double number(const pqxx::field& f) { return f.is_null() ? std::nan("") : f.as<double>(); }

// The study's row, locked until the transaction ends: decisions take turns.
std::string locked_controller(pqxx::transaction_base& tx, const std::string& study) {
  const pqxx::result r = tx.exec_params("SELECT controller FROM graybox_studies WHERE study = $1 FOR UPDATE", study);
  if (r.empty()) throw std::runtime_error("no study '" + study + "' in the store");
  return r[0][0].as<std::string>();
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

std::optional<core::WorkQueue::Job> PostgresStore::claim(const std::string& worker, double lease_seconds) {
  std::optional<Job> job;
  transact([&](pqxx::transaction_base& tx) {
    job.reset();
    const pqxx::result r = tx.exec_params(
        "UPDATE graybox_jobs SET state = 'running', attempt = attempt + 1, worker = $2,"
        " lease_until = clock_timestamp() + make_interval(secs => $3)"
        " WHERE id = (SELECT id FROM graybox_jobs WHERE study = $1 AND (state = 'queued' OR"
        " (state = 'running' AND lease_until < clock_timestamp())) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
        " RETURNING id, trial, budget, attempt, config",
        study(), worker, lease_seconds);
    if (r.empty()) return;
    job = Job{r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>(), r[0][2].as<std::int64_t>(), r[0][3].as<int>(),
              r[0][4].as<std::string>()};
  });
  return job;
}

bool PostgresStore::renew(const Job& job, double lease_seconds) {
  bool held = false;
  transact([&](pqxx::transaction_base& tx) {
    held = !tx.exec_params("UPDATE graybox_jobs SET lease_until = clock_timestamp() + make_interval(secs => $3)"
                           " WHERE id = $1 AND attempt = $2 AND state = 'running' RETURNING id",
                           job.id, job.attempt, lease_seconds)
                .empty();
  });
  return held;
}

void PostgresStore::decide(const Decision& decide) {
  transact([&](pqxx::transaction_base& tx) {
    std::optional<NewJob> queue;
    const std::string state = decide(locked_controller(tx, study()), queue);
    tx.exec_params("UPDATE graybox_studies SET controller = $2 WHERE study = $1", study(), state);
    if (queue) {
      tx.exec_params("INSERT INTO graybox_jobs (study, trial, budget, config) VALUES ($1, $2, $3, $4)", study(), queue->trial,
                     queue->budget, queue->config);
    }
  });
}

bool PostgresStore::finish(const Job& job, const Result& result, const std::string& worker,
                           const std::function<std::string(const std::string& state)>& react) {
  bool accepted = false;
  transact([&](pqxx::transaction_base& tx) {
    accepted = !tx.exec_params(
                      "UPDATE graybox_jobs SET state = 'done', loss = $3, score = $4, status = $5, steps = $6, seconds = $7,"
                      " checkpoint = $8, committed = nextval('graybox_commit_order')"
                      " WHERE id = $1 AND attempt = $2 AND state = 'running' RETURNING id",
                      job.id, job.attempt, number(result.loss), number(result.score), result.status, result.steps,
                      result.seconds, result.checkpoint)
                    .empty();
    const double wall = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (!accepted) {
      tx.exec_prepared("event", study(), job.trial, job.budget, "refused_result",
                       "job " + std::to_string(job.id) + " attempt " + std::to_string(job.attempt) + " of " + worker, wall);
      return;
    }
    const std::string state = react(locked_controller(tx, study()));
    tx.exec_params("UPDATE graybox_studies SET controller = $2 WHERE study = $1", study(), state);
    tx.exec_prepared("metric", study(), job.trial, job.budget, "tune/score", number(result.score), wall);
    tx.exec_prepared("metric", study(), job.trial, job.budget, "tune/loss", number(result.loss), wall);
    tx.exec_prepared("trial", study(), job.trial, job.config, job.budget, number(result.loss), number(result.score),
                     result.status, wall);
  });
  return accepted;
}

std::string PostgresStore::checkpoint_of(std::int64_t trial) {
  std::string checkpoint;
  transact([&](pqxx::transaction_base& tx) {
    const pqxx::result r = tx.exec_params(
        "SELECT checkpoint FROM graybox_jobs WHERE study = $1 AND trial = $2 AND state = 'done' ORDER BY committed DESC LIMIT 1",
        study(), trial);
    checkpoint = r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
  });
  return checkpoint;
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

std::vector<std::pair<core::WorkQueue::Job, core::WorkQueue::Result>> PostgresStore::results() {
  std::vector<std::pair<Job, Result>> rows;
  transact([&](pqxx::transaction_base& tx) {
    rows.clear();
    for (const auto& r : tx.exec_params(
             "SELECT id, trial, budget, attempt, config, loss, score, status, steps, seconds, COALESCE(checkpoint, '')"
             " FROM graybox_jobs WHERE study = $1 AND state = 'done' ORDER BY committed",
             study())) {
      Job job{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>(), r[3].as<int>(), r[4].as<std::string>()};
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

}  // namespace graybox::store
