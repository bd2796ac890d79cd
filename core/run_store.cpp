#include "core/run_store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <set>

#include "core/error.hpp"

namespace graybox::core {
namespace {

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
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

double wall_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

RunStore::RunStore(const std::string& path) : path_(path) {
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw UserError(path + ": cannot open the run store: " + message);
  }
  sqlite3_busy_timeout(db_, 10000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec(
        "CREATE TABLE IF NOT EXISTS metrics (trial INTEGER NOT NULL, step INTEGER NOT NULL,"
        " name TEXT NOT NULL, value REAL, wall REAL);"
        "CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics(trial, name, step);"
        "CREATE TABLE IF NOT EXISTS hyperparameters (trial INTEGER NOT NULL, step INTEGER NOT NULL,"
        " name TEXT NOT NULL, value REAL, wall REAL);"
        "CREATE TABLE IF NOT EXISTS events (trial INTEGER NOT NULL, step INTEGER NOT NULL,"
        " kind TEXT NOT NULL, detail TEXT, wall REAL);"
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
        "CREATE TABLE IF NOT EXISTS trials (trial INTEGER PRIMARY KEY, config TEXT, budget INTEGER,"
        " loss REAL, score REAL, status TEXT, wall REAL);");
  } catch (const std::exception& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw UserError(path + ": not a usable run store (" + e.what() + ")");
  }
}

RunStore::~RunStore() {
  try {
    commit();
  } catch (...) {
    // Never throw from a destructor; the rows of an unfinished step are dropped.
  }
  sqlite3_close(db_);
}

void RunStore::exec(const std::string& sql) const {
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail("sqlite");
}

void RunStore::fail(const std::string& what) const {
  const int code = sqlite3_extended_errcode(db_) & 0xff;
  const std::string message = sqlite3_errmsg(db_);
  if (code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_READONLY || code == SQLITE_CANTOPEN ||
      code == SQLITE_PERM) {
    const int error = sqlite3_system_errno(db_);
    throw UserError(path_ + ": cannot write the run store: " + message +
                    (error != 0 ? std::string(" (") + std::strerror(error) + ")" : std::string()));
  }
  throw std::runtime_error(what + ": " + message);
}

void RunStore::add_metric(std::int64_t trial, std::int64_t step, const std::string& name,
                          double value) {
  pending_.push_back({0, trial, step, name, value, {}});
}

void RunStore::set_metric(std::int64_t trial, std::int64_t step, const std::string& name, double value) {
  pending_.push_back({3, trial, step, name, value, {}});
}

void RunStore::add_hyperparameter(std::int64_t trial, std::int64_t step, const std::string& name,
                                  double value) {
  pending_.push_back({1, trial, step, name, value, {}});
}

void RunStore::add_event(std::int64_t trial, std::int64_t step, const std::string& kind,
                         const std::string& detail) {
  pending_.push_back({2, trial, step, kind, 0.0, detail});
}

void RunStore::upsert_trial(const TrialRow& row) { pending_trials_.push_back(row); }

// A text column that may be NULL (a row written by hand or by another tool): "" for NULL.
static std::string column_text(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  return text ? reinterpret_cast<const char*>(text) : "";
}

std::vector<RunStore::TrialRow> RunStore::trials() const {
  Statement s(db_, "SELECT trial, config, budget, loss, score, status FROM trials ORDER BY trial");
  std::vector<TrialRow> rows;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    TrialRow row;
    row.trial = sqlite3_column_int64(s.get(), 0);
    row.config = column_text(s.get(), 1);
    row.budget = sqlite3_column_int64(s.get(), 2);
    row.loss = sqlite3_column_type(s.get(), 3) == SQLITE_NULL ? std::nan("") : sqlite3_column_double(s.get(), 3);
    row.score = sqlite3_column_type(s.get(), 4) == SQLITE_NULL ? std::nan("") : sqlite3_column_double(s.get(), 4);
    row.status = column_text(s.get(), 5);
    rows.push_back(std::move(row));
  }
  return rows;
}

void RunStore::commit() {
  if (pending_.empty() && pending_trials_.empty() && pending_meta_.empty()) return;
  const double wall = wall_now();
  exec("BEGIN");
  try {
    // Before anything is inserted: a metric this commit adds where an earlier one recorded a
    // value is refused; where it recorded only a missing value, or where the row replaces on
    // purpose (set_metric), the earlier rows go.
    Statement existing(db_, "SELECT COUNT(*), COUNT(value) FROM metrics WHERE trial = ? AND name = ? AND step = ?");
    Statement remove(db_, "DELETE FROM metrics WHERE trial = ? AND name = ? AND step = ?");
    for (const auto& row : pending_) {
      if (row.table != 0 && row.table != 3) continue;
      sqlite3_bind_int64(existing.get(), 1, row.trial);
      sqlite3_bind_text(existing.get(), 2, row.name.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(existing.get(), 3, row.step);
      if (sqlite3_step(existing.get()) != SQLITE_ROW) fail("sqlite select");
      const std::int64_t rows = sqlite3_column_int64(existing.get(), 0), values = sqlite3_column_int64(existing.get(), 1);
      sqlite3_reset(existing.get());
      if (rows == 0) continue;
      if (row.table == 0 && values > 0) {
        throw std::logic_error(path_ + ": refusing a second value for metric " + row.name + " of trial " +
                               std::to_string(row.trial) + " at step " + std::to_string(row.step) +
                               " (the store already holds one from an earlier commit)");
      }
      sqlite3_bind_int64(remove.get(), 1, row.trial);
      sqlite3_bind_text(remove.get(), 2, row.name.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(remove.get(), 3, row.step);
      if (sqlite3_step(remove.get()) != SQLITE_DONE) fail("sqlite delete");
      sqlite3_reset(remove.get());
    }
    Statement metric(db_, "INSERT INTO metrics VALUES (?, ?, ?, ?, ?)");
    Statement hyper(db_, "INSERT INTO hyperparameters VALUES (?, ?, ?, ?, ?)");
    Statement event(db_, "INSERT INTO events VALUES (?, ?, ?, ?, ?)");
    for (const auto& row : pending_) {
      sqlite3_stmt* s = row.table == 1 ? hyper.get() : row.table == 2 ? event.get() : metric.get();
      sqlite3_bind_int64(s, 1, row.trial);
      sqlite3_bind_int64(s, 2, row.step);
      sqlite3_bind_text(s, 3, row.name.c_str(), -1, SQLITE_TRANSIENT);
      if (row.table == 2) {
        sqlite3_bind_text(s, 4, row.detail.c_str(), -1, SQLITE_TRANSIENT);
      } else if (std::isfinite(row.value)) {
        sqlite3_bind_double(s, 4, row.value);
      } else {
        sqlite3_bind_null(s, 4);  // SQLite has no NaN; a missing value reads back as NaN
      }
      sqlite3_bind_double(s, 5, wall);
      if (sqlite3_step(s) != SQLITE_DONE) fail("sqlite insert");
      sqlite3_reset(s);
    }
    Statement trial(db_, "INSERT OR REPLACE INTO trials VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const auto& row : pending_trials_) {
      sqlite3_bind_int64(trial.get(), 1, row.trial);
      sqlite3_bind_text(trial.get(), 2, row.config.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(trial.get(), 3, row.budget);
      if (std::isfinite(row.loss)) sqlite3_bind_double(trial.get(), 4, row.loss); else sqlite3_bind_null(trial.get(), 4);
      if (std::isfinite(row.score)) sqlite3_bind_double(trial.get(), 5, row.score); else sqlite3_bind_null(trial.get(), 5);
      sqlite3_bind_text(trial.get(), 6, row.status.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_double(trial.get(), 7, wall);
      if (sqlite3_step(trial.get()) != SQLITE_DONE) fail("sqlite insert");
      sqlite3_reset(trial.get());
    }
    for (const auto& [key, value] : pending_meta_) {
      Statement meta(db_, "INSERT OR REPLACE INTO meta VALUES (?, ?)");
      sqlite3_bind_text(meta.get(), 1, key.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(meta.get(), 2, value.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(meta.get()) != SQLITE_DONE) fail("sqlite insert");
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);  // best effort: a failed COMMIT may have ended it
    throw;
  }
  pending_.clear();
  pending_trials_.clear();
  pending_meta_.clear();
}

void RunStore::set_meta_on_commit(const std::string& key, const std::string& value) {
  pending_meta_.emplace_back(key, value);
}

void RunStore::truncate_after(std::int64_t trial, std::int64_t step) {
  commit();
  for (const char* table : {"metrics", "hyperparameters", "events"}) {
    Statement s(db_, (std::string("DELETE FROM ") + table + " WHERE trial = ? AND step > ?").c_str());
    sqlite3_bind_int64(s.get(), 1, trial);
    sqlite3_bind_int64(s.get(), 2, step);
    if (sqlite3_step(s.get()) != SQLITE_DONE) fail("sqlite delete");
  }
}

void RunStore::set_meta(const std::string& key, const std::string& value) {
  Statement s(db_, "INSERT OR REPLACE INTO meta VALUES (?, ?)");
  sqlite3_bind_text(s.get(), 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.get(), 2, value.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s.get()) != SQLITE_DONE) fail("sqlite insert");
}

std::string RunStore::meta(const std::string& key) const {
  Statement s(db_, "SELECT value FROM meta WHERE key = ?");
  sqlite3_bind_text(s.get(), 1, key.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return "";
  const auto* text = sqlite3_column_text(s.get(), 0);
  return text ? reinterpret_cast<const char*>(text) : "";
}

std::vector<MetricRow> RunStore::metrics(std::int64_t trial, const std::string& name) const {
  Statement s(db_,
              "SELECT trial, step, name, value FROM metrics WHERE (?1 < 0 OR trial = ?1)"
              " AND (?2 = '' OR name = ?2) ORDER BY trial, step, rowid");
  sqlite3_bind_int64(s.get(), 1, trial);
  sqlite3_bind_text(s.get(), 2, name.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<MetricRow> rows;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    MetricRow row;
    row.trial = sqlite3_column_int64(s.get(), 0);
    row.step = sqlite3_column_int64(s.get(), 1);
    row.name = column_text(s.get(), 2);
    row.value = sqlite3_column_type(s.get(), 3) == SQLITE_NULL ? std::nan("")
                                                                : sqlite3_column_double(s.get(), 3);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::int64_t RunStore::last_step(std::int64_t trial) const {
  Statement s(db_, "SELECT MAX(step) FROM metrics WHERE trial = ?");
  sqlite3_bind_int64(s.get(), 1, trial);
  if (sqlite3_step(s.get()) != SQLITE_ROW || sqlite3_column_type(s.get(), 0) == SQLITE_NULL) return -1;
  return sqlite3_column_int64(s.get(), 0);
}

std::int64_t RunStore::count_events(const std::string& kind) const {
  Statement s(db_, "SELECT COUNT(*) FROM events WHERE kind = ?");
  sqlite3_bind_text(s.get(), 1, kind.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_step(s.get());
  return sqlite3_column_int64(s.get(), 0);
}

void RunStore::export_csv(const std::string& path) const {
  const auto rows = metrics();
  std::set<std::string> names;
  for (const auto& row : rows) names.insert(row.name);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "trial,step";
    for (const auto& name : names) out << ',' << name;
    out << '\n';
    out << std::setprecision(10);
    std::size_t i = 0;
    while (i < rows.size()) {
      const auto trial = rows[i].trial;
      const auto step = rows[i].step;
      std::map<std::string, double> line;
      for (; i < rows.size() && rows[i].trial == trial && rows[i].step == step; ++i) {
        line[rows[i].name] = rows[i].value;  // the last value of a name at a step wins
      }
      out << trial << ',' << step;
      for (const auto& name : names) {
        out << ',';
        const auto it = line.find(name);
        if (it != line.end() && std::isfinite(it->second)) out << it->second;
      }
      out << '\n';
    }
    out.flush();
    if (!out) throw UserError(tmp + ": cannot write the metrics CSV: " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw UserError(path + ": cannot replace the metrics CSV: " + std::strerror(errno));
  }
}

}  // namespace graybox::core
