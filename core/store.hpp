// Store: where an experiment keeps what it records (metrics per step, hyperparameter changes,
// events, the trials table, its resume state). Every row belongs to a study, so several
// experiments can share one database. The runners and commands see only this interface; the
// backends live in store/ (SQLite, the embedded default, and PostgreSQL for many machines).
//
// Writes are buffered and go in one transaction per commit(), so a run killed at any moment
// leaves a store holding every committed step. A commit may not add a value for a
// (trial, step, name) that an earlier commit recorded (std::logic_error: two writers, or a run
// that restarted without truncating), except to fill a missing one (NaN, e.g. the score of an
// interval that diverged and was trained again); one commit may hold several (episodes that end
// at the same step). A write the backend refuses (disk full, read-only, server gone) is a
// UserError naming the store.
//
// Resume state is written incrementally: a runner appends a change of its state to a named log
// (append_state, in the same transaction as the results it describes) and reads the whole log
// back on resume, so each result and decision is written once, never the history again.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace graybox::core {

struct MetricRow {
  std::int64_t trial = 0;
  std::int64_t step = 0;
  std::string name;
  double value = 0.0;
};

class Store {
 public:
  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Buffered until commit().
  void add_metric(std::int64_t trial, std::int64_t step, const std::string& name, double value);
  // Like add_metric, but replaces a value already recorded there (a figure recomputed on
  // purpose, such as the final evaluation of a run that is resumed after it finished).
  void set_metric(std::int64_t trial, std::int64_t step, const std::string& name, double value);
  void add_hyperparameter(std::int64_t trial, std::int64_t step, const std::string& name, double value);
  void add_event(std::int64_t trial, std::int64_t step, const std::string& kind, const std::string& detail);

  // Tuning trials: one row per trial, replaced as the trial advances.
  struct TrialRow {
    std::int64_t trial = 0;
    std::string config;  // JSON
    std::int64_t budget = 0;
    double loss = 0.0, score = 0.0;
    std::string status;
  };
  void upsert_trial(const TrialRow& row);
  // Written in the same transaction as the next commit() (e.g. a controller's state together
  // with the results it has seen).
  void set_meta_on_commit(const std::string& key, const std::string& value);
  // Appends one entry to the state log `key` with the next commit().
  void append_state(const std::string& key, const std::string& entry);
  void commit();

  // Removes everything recorded after `step` (used on resume, so the store matches the
  // checkpoint the run continues from).
  virtual void truncate_after(std::int64_t trial, std::int64_t step) = 0;
  virtual void set_meta(const std::string& key, const std::string& value) = 0;
  virtual std::string meta(const std::string& key) const = 0;  // "" if unset

  virtual std::vector<MetricRow> metrics(std::int64_t trial = -1, const std::string& name = "") const = 0;
  // The largest step with a metric of `trial`, or -1 if it has none.
  virtual std::int64_t last_step(std::int64_t trial) const = 0;
  virtual std::int64_t count_events(const std::string& kind) const = 0;
  virtual std::vector<TrialRow> trials() const = 0;
  // The entries of the state log `key`, oldest first.
  virtual std::vector<std::string> state_log(const std::string& key) const = 0;
  // The bytes the state log `key` holds (what resuming reads back).
  virtual std::int64_t state_log_bytes(const std::string& key) const = 0;

  // Wide CSV: one row per (trial, step), one column per metric name.
  void export_csv(const std::string& path) const;

  // The file or server (without password) and the study, for messages.
  const std::string& location() const { return location_; }
  const std::string& study() const { return study_; }

 protected:
  Store(std::string location, std::string study) : location_(std::move(location)), study_(std::move(study)) {}

  // What one commit() writes, in one transaction.
  struct Batch {
    enum class Table { kMetric, kReplacingMetric, kHyperparameter, kEvent };
    struct Row {
      Table table;
      std::int64_t trial, step;
      std::string name;
      double value;
      std::string detail;
    };
    std::vector<Row> rows;
    std::vector<TrialRow> trials;
    std::vector<std::pair<std::string, std::string>> meta;
    std::vector<std::pair<std::string, std::string>> state;  // (log key, entry)
    bool empty() const { return rows.empty() && trials.empty() && meta.empty() && state.empty(); }
  };
  // Writes `batch` in one transaction, or throws and writes nothing.
  virtual void write(const Batch& batch) = 0;

  // What a metric row of a commit does where earlier commits hold `rows` rows, `values` of them
  // with a value: kInsert (nothing there), kReplace (delete them, then insert) or throws
  // std::logic_error (a second value).
  enum class Existing { kInsert, kReplace };
  Existing on_existing(const Batch::Row& row, std::int64_t rows, std::int64_t values) const;

  // For the backends' destructors: commits what is pending, swallowing a failure (the rows of
  // an unfinished step are dropped).
  void commit_quietly() noexcept;

 private:
  std::string location_, study_;
  Batch pending_;
};

}  // namespace graybox::core
