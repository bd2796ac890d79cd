// TuneRunner: executes a controller's jobs on trials, `parallel` at a time (TBB). Jobs run in
// batches: the runner collects up to `parallel` jobs, trains them side by side, then reports
// the results to the controller in trial order. That makes every decision, and so the whole
// experiment, depend only on the seed and `parallel`, not on timing.
//
// After every batch the results, each job's learning curve (the metrics its trainable reported,
// kept in the job's own sink while it trained), the trials table and the change of the resume
// state (the batch's results, the controller's new state: a StateJournal entry, never the
// whole history again) are committed to the store in one transaction; each trial's latest checkpoint lives in trials/<id>/. A killed
// experiment resumes from the last committed batch (losing only the batch in flight), and a
// promoted trial continues from its checkpoint instead of training again.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "controllers/controller.hpp"
#include "core/state_journal.hpp"
#include "core/store.hpp"
#include "core/trainable.hpp"
#include "core/trial_factory.hpp"

namespace graybox::controllers {

struct TrialResult {
  int trial = 0;
  core::Configuration config;
  std::int64_t budget = 0;  // units
  std::int64_t steps = 0;   // trainable steps this job actually trained (whole updates: may pass the budget)
  double score = 0.0;       // the task's metric
  double loss = 0.0;        // minimised: score, or -score for a maximised metric
  std::string status;       // "ok", "diverged", or "error: ..."
  double seconds = 0.0;
};

// A job's status when a stop request interrupted it.
extern const char* const kStopped;

// Trains `trainable` up to `budget` units in total, one unit at a time, checking `stop` before
// each (stopped: status kStopped, nothing scored); then sets the result's score, loss and
// status ("ok" or "diverged"). Throws what the trainable or the scoring throws.
void train_and_score(core::Trainable& trainable, const core::TrialFactory& factory, std::int64_t budget,
                     const std::function<bool()>& stop, core::MetricSink& sink, TrialResult& result);
// The result's score, loss and status ("ok", or "diverged" for a non-finite score).
void set_score(const core::TrialFactory& factory, double score, TrialResult& result);
// The result of a job that threw `e`: "no score: ..." (core::NoScore) or "error: ...".
void record_failure(const std::exception& e, TrialResult& result);

class TuneRunner {
 public:
  TuneRunner(Controller& controller, const core::TrialFactory& factory, core::Store& store, std::string dir,
             std::uint64_t seed, std::int64_t max_units, int parallel);

  // Restores the controller and the history from the store (after a kill). Returns false if the
  // store holds no committed state.
  bool resume();
  // Runs until the controller is done, or until `on_batch` (called after each committed batch)
  // returns false.
  void run(const std::function<bool(const std::vector<TrialResult>&)>& on_batch = {});
  // Checked by every running trial at each budget unit (from its TBB thread, so it must be
  // thread-safe): true stops the trials at their next unit boundary; run() then saves their
  // checkpoints and curves, reports nothing of that batch and returns (stopped() is true).
  void set_stop(std::function<bool()> stop) { stop_ = std::move(stop); }
  bool stopped() const { return stopped_; }

  const std::vector<TrialResult>& history() const { return history_; }
  // The best result at the largest budget any trial reached (ties: the earlier trial).
  const TrialResult* best() const;
  // Nominal budget units spent (a promoted trial pays its increment), and the trainable steps
  // actually trained (env steps, minibatches): what every "equal budget" comparison counts.
  std::int64_t total_units() const { return total_units_; }
  std::int64_t total_steps() const { return total_steps_; }
  double controller_seconds() const { return controller_seconds_; }

  std::uint64_t trial_seed(int trial) const;
  std::string trial_dir(int trial) const;

 private:
  // Trains one job on a worker thread; its metrics go to `sink`, never to the store.
  TrialResult execute(const Job& job, core::MetricSink& sink);

  Controller& controller_;
  const core::TrialFactory& factory_;
  core::Store& store_;
  core::StateJournal journal_;  // the resume state, in the store's state log "tune"
  std::string dir_;
  std::uint64_t seed_;
  std::int64_t max_units_;
  int parallel_;
  std::function<bool()> stop_;
  bool stopped_ = false;
  std::vector<TrialResult> history_;
  std::map<int, std::int64_t> reached_;  // units each trial has trained
  std::int64_t total_units_ = 0;
  std::int64_t total_steps_ = 0;
  double controller_seconds_ = 0.0;
};

}  // namespace graybox::controllers
