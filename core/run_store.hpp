// RunStore: the run's SQLite file (metrics per step, hyperparameter changes, events). Writes go
// in one transaction per call to commit(), with the write-ahead log on, so a run killed at any
// moment leaves a file that opens and holds every committed step. A commit may not add a value
// for a (trial, step, name) that an earlier commit recorded (std::logic_error: two writers, or a
// run that restarted without truncating), except to fill a missing one (NaN, e.g. the score of
// an interval that diverged and was trained again); one commit may hold several (episodes that
// end at the same step).
// A write the disk refuses (full, read-only, I/O error) is a UserError naming the file.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace graybox::core {

struct MetricRow {
  std::int64_t trial = 0;
  std::int64_t step = 0;
  std::string name;
  double value = 0.0;
};

class RunStore {
 public:
  // Opens or creates the store. Throws UserError if the file is not a usable SQLite store.
  explicit RunStore(const std::string& path);
  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  // Buffered until commit().
  void add_metric(std::int64_t trial, std::int64_t step, const std::string& name, double value);
  // Like add_metric, but replaces a value already recorded there (a figure recomputed on
  // purpose, such as the final evaluation of a run that is resumed after it finished).
  void set_metric(std::int64_t trial, std::int64_t step, const std::string& name, double value);
  void add_hyperparameter(std::int64_t trial, std::int64_t step, const std::string& name,
                          double value);
  void add_event(std::int64_t trial, std::int64_t step, const std::string& kind,
                 const std::string& detail);
  void commit();

  // Removes everything recorded after `step` (used on resume, so the store matches the
  // checkpoint the run continues from).
  void truncate_after(std::int64_t trial, std::int64_t step);

  void set_meta(const std::string& key, const std::string& value);
  // Written in the same transaction as the next commit() (e.g. a controller's state together
  // with the results it has seen).
  void set_meta_on_commit(const std::string& key, const std::string& value);
  std::string meta(const std::string& key) const;

  std::vector<MetricRow> metrics(std::int64_t trial = -1, const std::string& name = "") const;
  // The largest step with a metric of `trial`, or -1 if it has none.
  std::int64_t last_step(std::int64_t trial) const;
  std::int64_t count_events(const std::string& kind) const;

  // Tuning trials: one row per trial, replaced as the trial advances.
  struct TrialRow {
    std::int64_t trial = 0;
    std::string config;  // JSON
    std::int64_t budget = 0;
    double loss = 0.0, score = 0.0;
    std::string status;
  };
  void upsert_trial(const TrialRow& row);  // buffered until commit()
  std::vector<TrialRow> trials() const;

  // Wide CSV: one row per (trial, step), one column per metric name.
  void export_csv(const std::string& path) const;

  const std::string& path() const { return path_; }

 private:
  void exec(const std::string& sql) const;
  [[noreturn]] void fail(const std::string& what) const;  // the current SQLite error
  std::string path_;
  sqlite3* db_ = nullptr;
  struct Pending {
    int table;  // 0 metrics, 1 hyperparameters, 2 events, 3 a metric that replaces
    std::int64_t trial, step;
    std::string name;
    double value;
    std::string detail;
  };
  std::vector<Pending> pending_;
  std::vector<TrialRow> pending_trials_;
  std::vector<std::pair<std::string, std::string>> pending_meta_;
};

}  // namespace graybox::core
