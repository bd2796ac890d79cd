#include "store/postgres_store.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <thread>

#include "core/error.hpp"

namespace graybox::store {
namespace {

// Each entry brings the schema from version i to i + 1.
const char* const kMigrations[] = {
    // 1: the tables of SQLite's schema 2, with a serial id for the order of insertion.
    "CREATE TABLE graybox_metrics (id BIGSERIAL PRIMARY KEY, study TEXT NOT NULL, trial BIGINT NOT NULL,"
    " step BIGINT NOT NULL, name TEXT NOT NULL, value DOUBLE PRECISION, wall DOUBLE PRECISION);"
    "CREATE INDEX graybox_metrics_by_trial ON graybox_metrics(study, trial, name, step);"
    "CREATE TABLE graybox_hyperparameters (id BIGSERIAL PRIMARY KEY, study TEXT NOT NULL, trial BIGINT NOT NULL,"
    " step BIGINT NOT NULL, name TEXT NOT NULL, value DOUBLE PRECISION, wall DOUBLE PRECISION);"
    "CREATE INDEX graybox_hyperparameters_by_trial ON graybox_hyperparameters(study, trial, step);"
    "CREATE TABLE graybox_events (id BIGSERIAL PRIMARY KEY, study TEXT NOT NULL, trial BIGINT NOT NULL,"
    " step BIGINT NOT NULL, kind TEXT NOT NULL, detail TEXT, wall DOUBLE PRECISION);"
    "CREATE INDEX graybox_events_by_kind ON graybox_events(study, kind);"
    "CREATE TABLE graybox_meta (study TEXT NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY (study, key));"
    "CREATE TABLE graybox_trials (study TEXT NOT NULL, trial BIGINT NOT NULL, config TEXT, budget BIGINT,"
    " loss DOUBLE PRECISION, score DOUBLE PRECISION, status TEXT, wall DOUBLE PRECISION, PRIMARY KEY (study, trial));"
    "CREATE TABLE graybox_state_log (study TEXT NOT NULL, key TEXT NOT NULL, seq BIGINT NOT NULL,"
    " entry TEXT NOT NULL, PRIMARY KEY (study, key, seq));",
    // 2: the work queue of graybox worker: studies (shared directory, controller state) and jobs.
    "CREATE TABLE graybox_studies (study TEXT PRIMARY KEY, dir TEXT NOT NULL, controller TEXT NOT NULL);"
    "CREATE TABLE graybox_jobs (id BIGSERIAL PRIMARY KEY, study TEXT NOT NULL, trial BIGINT NOT NULL,"
    " budget BIGINT NOT NULL, config TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued',"
    " attempt INTEGER NOT NULL DEFAULT 0, worker TEXT, lease_until TIMESTAMPTZ, loss DOUBLE PRECISION,"
    " score DOUBLE PRECISION, status TEXT, steps BIGINT, seconds DOUBLE PRECISION, checkpoint TEXT, committed BIGINT);"
    "CREATE INDEX graybox_jobs_runnable ON graybox_jobs(study, state, id);"
    "CREATE SEQUENCE graybox_commit_order;",
    // 3: the controller's decisions as an append-only log after its first state (which
    // graybox_studies.controller keeps: a v2 study's whole state is the first state of an empty
    // log); the claim's index holds only the jobs not done, and a trial's last checkpoint has one.
    "CREATE TABLE graybox_decisions (study TEXT NOT NULL, seq BIGINT NOT NULL, decision TEXT NOT NULL, PRIMARY KEY (study, seq));"
    "DROP INDEX graybox_jobs_runnable;"
    "CREATE INDEX graybox_jobs_open ON graybox_jobs(study, id) WHERE state <> 'done';"
    "CREATE INDEX graybox_jobs_last_checkpoint ON graybox_jobs(study, trial, committed) WHERE state = 'done';",
    // 4: snapshots of the controller's state after an entry of the log, so a worker that joins
    // late starts from the latest one instead of replaying the whole log.
    "CREATE TABLE graybox_snapshots (study TEXT NOT NULL, seq BIGINT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (study, seq));",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == PostgresStore::kSchemaVersion);

// The prepared statements every connection gets.
const char* const kStatements[][2] = {
    {"existing", "SELECT COUNT(*), COUNT(value) FROM graybox_metrics WHERE study = $1 AND trial = $2 AND name = $3 AND step = $4"},
    {"remove", "DELETE FROM graybox_metrics WHERE study = $1 AND trial = $2 AND name = $3 AND step = $4"},
    {"metric", "INSERT INTO graybox_metrics (study, trial, step, name, value, wall) VALUES ($1, $2, $3, $4, $5, $6)"},
    {"hyper", "INSERT INTO graybox_hyperparameters (study, trial, step, name, value, wall) VALUES ($1, $2, $3, $4, $5, $6)"},
    {"event", "INSERT INTO graybox_events (study, trial, step, kind, detail, wall) VALUES ($1, $2, $3, $4, $5, $6)"},
    {"trial",
     "INSERT INTO graybox_trials (study, trial, config, budget, loss, score, status, wall) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
     " ON CONFLICT (study, trial) DO UPDATE SET config = EXCLUDED.config, budget = EXCLUDED.budget, loss = EXCLUDED.loss,"
     " score = EXCLUDED.score, status = EXCLUDED.status, wall = EXCLUDED.wall"},
    {"meta",
     "INSERT INTO graybox_meta (study, key, value) VALUES ($1, $2, $3)"
     " ON CONFLICT (study, key) DO UPDATE SET value = EXCLUDED.value"},
    {"state",
     "INSERT INTO graybox_state_log (study, key, seq, entry) VALUES ($1, $2,"
     " (SELECT COALESCE(MAX(seq), 0) + 1 FROM graybox_state_log WHERE study = $1 AND key = $2), $3)"},
    // The work queue's (store/postgres_work_queue.cpp): a worker's turn is a few of these.
    {"finish",
     "WITH done AS (UPDATE graybox_jobs SET state = 'done', loss = $3, score = $4, status = $5, steps = $6, seconds = $7,"
     " checkpoint = $8, committed = nextval('graybox_commit_order') WHERE id = $1 AND attempt = $2 AND state = 'running'"
     " RETURNING study, trial, budget, config),"
     " score AS (INSERT INTO graybox_metrics (study, trial, step, name, value, wall) SELECT done.study, done.trial, done.budget,"
     " v.name, v.value, $9::DOUBLE PRECISION FROM done CROSS JOIN (VALUES (1, 'tune/score', $4::DOUBLE PRECISION),"
     " (2, 'tune/loss', $3::DOUBLE PRECISION)) v(o, name, value) ORDER BY v.o),"
     " trial_row AS (INSERT INTO graybox_trials (study, trial, config, budget, loss, score, status, wall)"
     " SELECT study, trial, config, budget, $3::DOUBLE PRECISION, $4::DOUBLE PRECISION, $5::TEXT, $9::DOUBLE PRECISION FROM done"
     " ON CONFLICT (study, trial) DO UPDATE SET"
     " config = EXCLUDED.config, budget = EXCLUDED.budget, loss = EXCLUDED.loss, score = EXCLUDED.score,"
     " status = EXCLUDED.status, wall = EXCLUDED.wall)"
     " SELECT COUNT(*) FROM done"},
    {"committed_by", "SELECT state = 'done' AND attempt = $2 FROM graybox_jobs WHERE id = $1"},
    {"lock", "SELECT CASE WHEN $2::BOOLEAN THEN controller ELSE '' END FROM graybox_studies WHERE study = $1 FOR UPDATE"},
    {"log_after", "SELECT decision FROM graybox_decisions WHERE study = $1 AND seq > $2 ORDER BY seq"},
    {"latest_snapshot", "SELECT seq, state FROM graybox_snapshots WHERE study = $1 ORDER BY seq DESC LIMIT 1"},
    {"snapshot", "INSERT INTO graybox_snapshots (study, seq, state) VALUES ($1, $2, $3) ON CONFLICT (study, seq) DO NOTHING"},
    {"claim",
     "UPDATE graybox_jobs SET state = 'running', attempt = attempt + 1, worker = $2,"
     " lease_until = clock_timestamp() + make_interval(secs => $3)"
     " WHERE id = (SELECT id FROM graybox_jobs WHERE study = $1 AND state <> 'done' AND (state = 'queued' OR"
     " lease_until < clock_timestamp() OR worker = $2) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
     " RETURNING id, trial, budget, attempt, config, COALESCE((SELECT d.checkpoint FROM graybox_jobs d WHERE d.study = $1"
     " AND d.trial = graybox_jobs.trial AND d.state = 'done' ORDER BY d.committed DESC LIMIT 1), '')"},
    {"decide",
     "WITH log AS (INSERT INTO graybox_decisions (study, seq, decision)"
     " SELECT $1::TEXT, $2::BIGINT + u.o - 1, u.d FROM unnest($3::TEXT[]) WITH ORDINALITY AS u(d, o))"
     " INSERT INTO graybox_jobs (study, trial, budget, config, state, attempt, worker, lease_until)"
     " SELECT $1::TEXT, $5::BIGINT, $6::BIGINT, $7::TEXT, 'running', 1, $8::TEXT,"
     " clock_timestamp() + make_interval(secs => $9::DOUBLE PRECISION) WHERE $4::BOOLEAN"
     " RETURNING id, trial, budget, attempt, config, COALESCE((SELECT d.checkpoint FROM graybox_jobs d WHERE d.study = $1"
     " AND d.trial = graybox_jobs.trial AND d.state = 'done' ORDER BY d.committed DESC LIMIT 1), '')"},
    {"renew",
     "UPDATE graybox_jobs SET lease_until = clock_timestamp() + make_interval(secs => $3)"
     " WHERE id = $1 AND attempt = $2 AND state = 'running' RETURNING id"},
    {"release",
     "UPDATE graybox_jobs SET state = 'queued', worker = NULL, lease_until = NULL WHERE id = $1 AND attempt = $2 AND state = 'running'"},
};

// PostgreSQL has NaN, but the stores agree: a missing value is NULL and reads back as NaN.
std::optional<double> number(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }
double number(const pqxx::field& f) { return f.is_null() ? std::nan("") : f.as<double>(); }
std::string text(const pqxx::field& f) { return f.is_null() ? "" : f.as<std::string>(); }

double wall_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// postgresql://user:secret@host/db -> postgresql://user@host/db, for messages.
std::string without_password(const std::string& uri) {
  const auto start = uri.find("://");
  const auto at = uri.find('@');
  if (start == std::string::npos || at == std::string::npos) return uri;
  const auto colon = uri.find(':', start + 3);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon) + uri.substr(at);
}

}  // namespace

struct PostgresStore::Connection {
  explicit Connection(const std::string& uri) : pq(uri) {
    // A client stalled inside a transaction (a stopped or hung worker) would hold its row locks,
    // and with the study's lock every decision: the server ends such a session after 5 s.
    pqxx::nontransaction(pq).exec("SET idle_in_transaction_session_timeout = '5s'");
    for (const auto& [name, sql] : kStatements) pq.prepare(name, sql);
  }
  pqxx::connection pq;
};

PostgresStore::PostgresStore(const std::string& uri, const std::string& study, double reconnect_seconds)
    : Store(without_password(uri), study), uri_(uri), reconnect_seconds_(reconnect_seconds) {
  migrate();
}

PostgresStore::~PostgresStore() { commit_quietly(); }

const char* PostgresStore::migration(int version) {
  if (version < 1 || version > kSchemaVersion) throw std::out_of_range("no schema version " + std::to_string(version));
  return kMigrations[version - 1];
}

void PostgresStore::transact(const std::function<void(pqxx::transaction_base&)>& body) const {
  // Until the first connection succeeds, only a few seconds: a wrong server, database or user
  // is said at once, a server that is starting up is waited for.
  const double patience = connected_ ? reconnect_seconds_ : std::min(reconnect_seconds_, 5.0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(patience);
  for (;;) {
    std::string lost;
    try {
      if (!connection_ || !connection_->pq.is_open()) connection_ = std::make_unique<Connection>(uri_);
      connected_ = true;
      pqxx::work tx(connection_->pq);
      body(tx);
      tx.commit();
      if (lose_next_ack_) {
        lose_next_ack_ = false;
        throw pqxx::in_doubt_error("the connection was lost during COMMIT (lose_next_commit_ack)");
      }
      return;
    } catch (const pqxx::broken_connection& e) {
      lost = e.what();
    } catch (const pqxx::in_doubt_error& e) {
      lost = e.what();
    } catch (const pqxx::sql_error& e) {
      // 57P: the server is going down (admin shutdown, crash shutdown, cannot connect now).
      if (e.sqlstate().rfind("57P", 0) != 0) {
        throw std::runtime_error(location() + ": " + e.what() + " (in: " + e.query() + ")");
      }
      lost = e.what();
    }
    connection_.reset();
    if (std::chrono::steady_clock::now() > deadline) {
      throw core::UserError(location() + ": " + (connected_ ? "lost the PostgreSQL server" : "cannot connect to the PostgreSQL server") +
                            " for " + std::to_string(static_cast<int>(patience)) + " s: " + lost);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void PostgresStore::migrate() {
  transact([&](pqxx::transaction_base& tx) {
    tx.exec("SELECT pg_advisory_xact_lock(7242015)");  // one migrator at a time
    tx.exec("CREATE TABLE IF NOT EXISTS graybox_schema (version INTEGER NOT NULL)");
    const pqxx::result r = tx.exec("SELECT version FROM graybox_schema");
    const int have = r.empty() ? 0 : r[0][0].as<int>();
    if (have > kSchemaVersion) {
      throw core::UserError(location() + ": the store has schema version " + std::to_string(have) + ", newer than this graybox's " +
                            std::to_string(kSchemaVersion) + " (a newer graybox wrote it)");
    }
    for (int v = have; v < kSchemaVersion; ++v) tx.exec(kMigrations[v]);
    if (r.empty()) tx.exec("INSERT INTO graybox_schema VALUES (" + std::to_string(kSchemaVersion) + ")");
    else if (have != kSchemaVersion) tx.exec("UPDATE graybox_schema SET version = " + std::to_string(kSchemaVersion));
  });
}

void PostgresStore::write(const Batch& batch) {
  using Table = Batch::Table;
  const double wall = wall_now();
  transact([&](pqxx::transaction_base& tx) {
    for (const auto& row : batch.rows) {
      if (row.table != Table::kMetric && row.table != Table::kReplacingMetric) continue;
      const pqxx::result r = tx.exec_prepared("existing", study(), row.trial, row.name, row.step);
      if (on_existing(row, r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>()) == Existing::kReplace) {
        tx.exec_prepared("remove", study(), row.trial, row.name, row.step);
      }
    }
    for (const auto& row : batch.rows) {
      if (row.table == Table::kEvent) {
        tx.exec_prepared("event", study(), row.trial, row.step, row.name, row.detail, wall);
      } else {
        tx.exec_prepared(row.table == Table::kHyperparameter ? "hyper" : "metric", study(), row.trial, row.step, row.name,
                         number(row.value), wall);
      }
    }
    for (const auto& t : batch.trials) {
      tx.exec_prepared("trial", study(), t.trial, t.config, t.budget, number(t.loss), number(t.score), t.status, wall);
    }
    for (const auto& [key, value] : batch.meta) tx.exec_prepared("meta", study(), key, value);
    for (const auto& [key, entry] : batch.state) tx.exec_prepared("state", study(), key, entry);
  });
}

void PostgresStore::truncate_after(std::int64_t trial, std::int64_t step) {
  commit();
  transact([&](pqxx::transaction_base& tx) {
    for (const char* table : {"graybox_metrics", "graybox_hyperparameters", "graybox_events"}) {
      tx.exec_params(std::string("DELETE FROM ") + table + " WHERE study = $1 AND trial = $2 AND step > $3", study(), trial, step);
    }
  });
}

void PostgresStore::set_meta(const std::string& key, const std::string& value) {
  transact([&](pqxx::transaction_base& tx) { tx.exec_prepared("meta", study(), key, value); });
}

std::string PostgresStore::meta(const std::string& key) const {
  std::string value;
  transact([&](pqxx::transaction_base& tx) {
    const pqxx::result r = tx.exec_params("SELECT value FROM graybox_meta WHERE study = $1 AND key = $2", study(), key);
    value = r.empty() ? "" : text(r[0][0]);
  });
  return value;
}

std::vector<core::MetricRow> PostgresStore::metrics(std::int64_t trial, const std::string& name) const {
  std::vector<core::MetricRow> rows;
  transact([&](pqxx::transaction_base& tx) {
    rows.clear();
    const pqxx::result r = tx.exec_params(
        "SELECT trial, step, name, value FROM graybox_metrics WHERE study = $1 AND ($2 < 0 OR trial = $2)"
        " AND ($3 = '' OR name = $3) ORDER BY trial, step, id",
        study(), trial, name);
    for (const auto& row : r) rows.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), text(row[2]), number(row[3])});
  });
  return rows;
}

std::int64_t PostgresStore::last_step(std::int64_t trial) const {
  std::int64_t step = -1;
  transact([&](pqxx::transaction_base& tx) {
    const pqxx::result r = tx.exec_params("SELECT MAX(step) FROM graybox_metrics WHERE study = $1 AND trial = $2", study(), trial);
    step = r[0][0].is_null() ? -1 : r[0][0].as<std::int64_t>();
  });
  return step;
}

std::int64_t PostgresStore::count_events(const std::string& kind) const {
  std::int64_t n = 0;
  transact([&](pqxx::transaction_base& tx) {
    n = tx.exec_params("SELECT COUNT(*) FROM graybox_events WHERE study = $1 AND kind = $2", study(), kind)[0][0].as<std::int64_t>();
  });
  return n;
}

std::vector<core::Store::TrialRow> PostgresStore::trials() const {
  std::vector<TrialRow> rows;
  transact([&](pqxx::transaction_base& tx) {
    rows.clear();
    const pqxx::result r = tx.exec_params(
        "SELECT trial, config, budget, loss, score, status FROM graybox_trials WHERE study = $1 ORDER BY trial", study());
    for (const auto& row : r) {
      rows.push_back({row[0].as<std::int64_t>(), text(row[1]), row[2].is_null() ? 0 : row[2].as<std::int64_t>(), number(row[3]),
                      number(row[4]), text(row[5])});
    }
  });
  return rows;
}

std::vector<std::string> PostgresStore::state_log(const std::string& key) const {
  std::vector<std::string> entries;
  transact([&](pqxx::transaction_base& tx) {
    entries.clear();
    const pqxx::result r =
        tx.exec_params("SELECT entry FROM graybox_state_log WHERE study = $1 AND key = $2 ORDER BY seq", study(), key);
    for (const auto& row : r) entries.push_back(text(row[0]));
  });
  return entries;
}

std::int64_t PostgresStore::state_log_bytes(const std::string& key) const {
  std::int64_t n = 0;
  transact([&](pqxx::transaction_base& tx) {
    n = tx.exec_params("SELECT COALESCE(SUM(OCTET_LENGTH(entry)), 0) FROM graybox_state_log WHERE study = $1 AND key = $2",
                       study(), key)[0][0]
            .as<std::int64_t>();
  });
  return n;
}

}  // namespace graybox::store
