#include "store/sqlite_store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "core/error.hpp"

namespace graybox::store {
namespace {

// Each entry brings the schema from version i to i + 1; a file's user_version says how many ran.
const char* const kMigrations[] = {
    // 1: the first schema (graybox 0.1, no study column). IF NOT EXISTS: files of that version
    // carry these tables but no user_version.
    "CREATE TABLE IF NOT EXISTS metrics (trial INTEGER NOT NULL, step INTEGER NOT NULL,"
    " name TEXT NOT NULL, value REAL, wall REAL);"
    "CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics(trial, name, step);"
    "CREATE TABLE IF NOT EXISTS hyperparameters (trial INTEGER NOT NULL, step INTEGER NOT NULL,"
    " name TEXT NOT NULL, value REAL, wall REAL);"
    "CREATE TABLE IF NOT EXISTS events (trial INTEGER NOT NULL, step INTEGER NOT NULL,"
    " kind TEXT NOT NULL, detail TEXT, wall REAL);"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS trials (trial INTEGER PRIMARY KEY, config TEXT, budget INTEGER,"
    " loss REAL, score REAL, status TEXT, wall REAL);",
    // 2: a study column on every table (the rows so far belong to "default"), the state logs.
    "ALTER TABLE metrics ADD COLUMN study TEXT NOT NULL DEFAULT 'default';"
    "ALTER TABLE hyperparameters ADD COLUMN study TEXT NOT NULL DEFAULT 'default';"
    "ALTER TABLE events ADD COLUMN study TEXT NOT NULL DEFAULT 'default';"
    "DROP INDEX IF EXISTS metrics_by_name;"
    "CREATE INDEX metrics_by_trial ON metrics(study, trial, name, step);"
    "CREATE INDEX hyperparameters_by_trial ON hyperparameters(study, trial, step);"
    "CREATE INDEX events_by_kind ON events(study, kind);"
    "CREATE TABLE meta_v2 (study TEXT NOT NULL DEFAULT 'default', key TEXT NOT NULL, value TEXT,"
    " PRIMARY KEY (study, key));"
    "INSERT INTO meta_v2 (study, key, value) SELECT 'default', key, value FROM meta;"
    "DROP TABLE meta;"
    "ALTER TABLE meta_v2 RENAME TO meta;"
    "CREATE TABLE trials_v2 (study TEXT NOT NULL DEFAULT 'default', trial INTEGER NOT NULL, config TEXT,"
    " budget INTEGER, loss REAL, score REAL, status TEXT, wall REAL, PRIMARY KEY (study, trial));"
    "INSERT INTO trials_v2 (study, trial, config, budget, loss, score, status, wall)"
    " SELECT 'default', trial, config, budget, loss, score, status, wall FROM trials;"
    "DROP TABLE trials;"
    "ALTER TABLE trials_v2 RENAME TO trials;"
    "CREATE TABLE state_log (study TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL,"
    " entry TEXT NOT NULL, PRIMARY KEY (study, key, seq));",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == SqliteStore::kSchemaVersion);

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.c_str(), -1, SQLITE_TRANSIENT);
    return *this;
  }
  // SQLite has no NaN: a missing value is NULL and reads back as NaN.
  Statement& bind_number(int i, double v) {
    if (std::isfinite(v)) sqlite3_bind_double(stmt_, i, v); else sqlite3_bind_null(stmt_, i);
    return *this;
  }
  bool row() { return sqlite3_step(stmt_) == SQLITE_ROW; }
  // Runs a statement that returns no rows; false if it failed.
  bool done() {
    const bool ok = sqlite3_step(stmt_) == SQLITE_DONE;
    sqlite3_reset(stmt_);
    return ok;
  }
  void reset() { sqlite3_reset(stmt_); }

  std::int64_t integer(int c) const { return sqlite3_column_int64(stmt_, c); }
  double number(int c) const {
    return sqlite3_column_type(stmt_, c) == SQLITE_NULL ? std::nan("") : sqlite3_column_double(stmt_, c);
  }
  bool null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  // A text column that may be NULL (a row written by hand or by another tool): "" for NULL.
  std::string text(int c) const {
    const unsigned char* t = sqlite3_column_text(stmt_, c);
    return t ? reinterpret_cast<const char*>(t) : "";
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

double wall_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path, const std::string& study) : Store(path, study) {
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw core::UserError(path + ": cannot open the run store: " + message);
  }
  sqlite3_busy_timeout(db_, 10000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    migrate();
  } catch (const core::UserError&) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  } catch (const std::exception& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw core::UserError(path + ": not a usable run store (" + e.what() + ")");
  }
}

SqliteStore::~SqliteStore() {
  commit_quietly();
  sqlite3_close(db_);
}

void SqliteStore::migrate() {
  // IMMEDIATE: a second process opening the same new file waits, then finds it migrated.
  exec("BEGIN IMMEDIATE");
  try {
    Statement version(db_, "PRAGMA user_version");
    const int have = version.row() ? static_cast<int>(version.integer(0)) : 0;
    version.reset();
    if (have > kSchemaVersion) {
      throw core::UserError(path() + ": the run store has schema version " + std::to_string(have) +
                            ", newer than this graybox's " + std::to_string(kSchemaVersion) + " (a newer graybox wrote it)");
    }
    for (int v = have; v < kSchemaVersion; ++v) exec(kMigrations[v]);
    if (have != kSchemaVersion) exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void SqliteStore::exec(const std::string& sql) const {
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail("sqlite");
}

void SqliteStore::fail(const std::string& what) const {
  const int code = sqlite3_extended_errcode(db_) & 0xff;
  const std::string message = sqlite3_errmsg(db_);
  if (code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_READONLY || code == SQLITE_CANTOPEN ||
      code == SQLITE_PERM) {
    const int error = sqlite3_system_errno(db_);
    throw core::UserError(path() + ": cannot write the run store: " + message +
                          (error != 0 ? std::string(" (") + std::strerror(error) + ")" : std::string()));
  }
  throw std::runtime_error(what + ": " + message);
}

void SqliteStore::write(const Batch& batch) {
  using Table = Batch::Table;
  const double wall = wall_now();
  exec("BEGIN");
  try {
    // Before anything is inserted: the metrics this commit adds where earlier commits hold rows.
    Statement existing(db_, "SELECT COUNT(*), COUNT(value) FROM metrics WHERE study = ? AND trial = ? AND name = ? AND step = ?");
    Statement remove(db_, "DELETE FROM metrics WHERE study = ? AND trial = ? AND name = ? AND step = ?");
    for (const auto& row : batch.rows) {
      if (row.table != Table::kMetric && row.table != Table::kReplacingMetric) continue;
      existing.bind(1, study()).bind(2, row.trial).bind(3, row.name).bind(4, row.step);
      if (!existing.row()) fail("sqlite select");
      const std::int64_t rows = existing.integer(0), values = existing.integer(1);
      existing.reset();
      if (on_existing(row, rows, values) == Existing::kReplace) {
        if (!remove.bind(1, study()).bind(2, row.trial).bind(3, row.name).bind(4, row.step).done()) fail("sqlite delete");
      }
    }
    Statement metric(db_, "INSERT INTO metrics (study, trial, step, name, value, wall) VALUES (?, ?, ?, ?, ?, ?)");
    Statement hyper(db_, "INSERT INTO hyperparameters (study, trial, step, name, value, wall) VALUES (?, ?, ?, ?, ?, ?)");
    Statement event(db_, "INSERT INTO events (study, trial, step, kind, detail, wall) VALUES (?, ?, ?, ?, ?, ?)");
    for (const auto& row : batch.rows) {
      Statement& s = row.table == Table::kHyperparameter ? hyper : row.table == Table::kEvent ? event : metric;
      s.bind(1, study()).bind(2, row.trial).bind(3, row.step).bind(4, row.name);
      if (row.table == Table::kEvent) s.bind(5, row.detail); else s.bind_number(5, row.value);
      s.bind_number(6, wall);
      if (!s.done()) fail("sqlite insert");
    }
    Statement trial(db_,
                    "INSERT OR REPLACE INTO trials (study, trial, config, budget, loss, score, status, wall)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& row : batch.trials) {
      trial.bind(1, study()).bind(2, row.trial).bind(3, row.config).bind(4, row.budget);
      trial.bind_number(5, row.loss).bind_number(6, row.score).bind(7, row.status).bind_number(8, wall);
      if (!trial.done()) fail("sqlite insert");
    }
    Statement meta(db_, "INSERT OR REPLACE INTO meta (study, key, value) VALUES (?, ?, ?)");
    for (const auto& [key, value] : batch.meta) {
      if (!meta.bind(1, study()).bind(2, key).bind(3, value).done()) fail("sqlite insert");
    }
    Statement state(db_,
                    "INSERT INTO state_log (study, key, seq, entry) VALUES (?1, ?2,"
                    " (SELECT COALESCE(MAX(seq), 0) + 1 FROM state_log WHERE study = ?1 AND key = ?2), ?3)");
    for (const auto& [key, entry] : batch.state) {
      if (!state.bind(1, study()).bind(2, key).bind(3, entry).done()) fail("sqlite insert");
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);  // best effort: a failed COMMIT may have ended it
    throw;
  }
}

void SqliteStore::truncate_after(std::int64_t trial, std::int64_t step) {
  commit();
  for (const char* table : {"metrics", "hyperparameters", "events"}) {
    Statement s(db_, (std::string("DELETE FROM ") + table + " WHERE study = ? AND trial = ? AND step > ?").c_str());
    if (!s.bind(1, study()).bind(2, trial).bind(3, step).done()) fail("sqlite delete");
  }
}

void SqliteStore::set_meta(const std::string& key, const std::string& value) {
  Statement s(db_, "INSERT OR REPLACE INTO meta (study, key, value) VALUES (?, ?, ?)");
  if (!s.bind(1, study()).bind(2, key).bind(3, value).done()) fail("sqlite insert");
}

std::string SqliteStore::meta(const std::string& key) const {
  Statement s(db_, "SELECT value FROM meta WHERE study = ? AND key = ?");
  s.bind(1, study()).bind(2, key);
  return s.row() ? s.text(0) : "";
}

std::vector<core::MetricRow> SqliteStore::metrics(std::int64_t trial, const std::string& name) const {
  Statement s(db_,
              "SELECT trial, step, name, value FROM metrics WHERE study = ?3 AND (?1 < 0 OR trial = ?1)"
              " AND (?2 = '' OR name = ?2) ORDER BY trial, step, rowid");
  s.bind(1, trial).bind(2, name).bind(3, study());
  std::vector<core::MetricRow> rows;
  while (s.row()) rows.push_back({s.integer(0), s.integer(1), s.text(2), s.number(3)});
  return rows;
}

std::int64_t SqliteStore::last_step(std::int64_t trial) const {
  Statement s(db_, "SELECT MAX(step) FROM metrics WHERE study = ? AND trial = ?");
  s.bind(1, study()).bind(2, trial);
  return s.row() && !s.null(0) ? s.integer(0) : -1;
}

std::int64_t SqliteStore::count_events(const std::string& kind) const {
  Statement s(db_, "SELECT COUNT(*) FROM events WHERE study = ? AND kind = ?");
  s.bind(1, study()).bind(2, kind);
  return s.row() ? s.integer(0) : 0;
}

std::vector<core::Store::TrialRow> SqliteStore::trials() const {
  Statement s(db_, "SELECT trial, config, budget, loss, score, status FROM trials WHERE study = ? ORDER BY trial");
  s.bind(1, study());
  std::vector<TrialRow> rows;
  while (s.row()) rows.push_back({s.integer(0), s.text(1), s.integer(2), s.number(3), s.number(4), s.text(5)});
  return rows;
}

std::vector<std::string> SqliteStore::state_log(const std::string& key) const {
  Statement s(db_, "SELECT entry FROM state_log WHERE study = ? AND key = ? ORDER BY seq");
  s.bind(1, study()).bind(2, key);
  std::vector<std::string> entries;
  while (s.row()) entries.push_back(s.text(0));
  return entries;
}

std::int64_t SqliteStore::state_log_bytes(const std::string& key) const {
  Statement s(db_, "SELECT COALESCE(SUM(LENGTH(CAST(entry AS BLOB))), 0) FROM state_log WHERE study = ? AND key = ?");
  s.bind(1, study()).bind(2, key);
  return s.row() ? s.integer(0) : 0;
}

}  // namespace graybox::store
