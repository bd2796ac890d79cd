// Controller: the small object that decides what the trials do, in the style of Ray Tune's
// schedulers. The runner asks it for work when a worker is free (suggest) and reports every
// finished job (on_result); its complete state (searcher data, rungs, RNG) can be saved and
// restored, so a resumed experiment makes the same decisions.
//
// A job trains one trial up to a cumulative budget (in the task's units: env steps, epochs or
// minibatches, never seconds). A trial promoted to a larger budget continues from its
// checkpoint. Losses are minimised; crashed trials report +inf.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controllers/searcher.hpp"
#include "core/rng.hpp"
#include "core/search_space.hpp"

namespace graybox::controllers {

struct Job {
  int trial = 0;
  core::Configuration config;
  std::int64_t budget = 0;  // train the trial until it has this much in total
};

// What a finished job left: its loss, status ("ok", "diverged", "no score: ..."), the trainable's
// steps after it and its checkpoint (relative to the study's directory). Controllers that
// continue one trial from another's state (PBT) need more than the loss.
struct JobOutcome {
  double loss = 0.0;
  std::string status;
  std::int64_t steps = 0;   // trained in the job
  std::string checkpoint;
  bool finished = false;    // the trainable has nothing left to train
};

// Where a job starts when it is not the trial's own last checkpoint with the trial's values:
// a PBT exploit starts from the donor's committed checkpoint and draws from new streams.
struct JobStart {
  std::string checkpoint;         // relative to the study's directory ("": a fresh trainable)
  std::uint64_t reseed = 0;       // Trainable::reseed with this after loading (0: not reseeded)
  // > 0: train this many units from the loaded state in one call (to at most the experiment's
  // largest budget), as PBT's in-process runner trains an interval; 0: to the job's budget.
  std::int64_t interval = 0;
};

struct Suggestion {
  enum class Kind { kJob, kWait, kDone };
  Kind kind = Kind::kDone;
  Job job;
  static Suggestion wait() { return {Kind::kWait, {}}; }
  static Suggestion done() { return {Kind::kDone, {}}; }
  static Suggestion run(Job job) { return {Kind::kJob, std::move(job)}; }
};

class Controller {
 public:
  Controller(const core::SearchSpace& space, std::unique_ptr<Searcher> searcher, std::uint64_t seed);
  virtual ~Controller() = default;
  virtual std::string name() const = 0;

  virtual Suggestion suggest() = 0;
  virtual void on_result(const Job& job, double loss) = 0;
  // The same with the whole outcome; a controller that needs only the loss keeps this default.
  virtual void on_outcome(const Job& job, const JobOutcome& outcome) { on_result(job, outcome.loss); }
  // Where the job that this controller last suggested for `job.trial` starts (none: from the
  // trial's last committed checkpoint, with the trial's values as the base config's overrides).
  // A controller that returns one also has the job's values set as hyperparameters after loading.
  // Only asked when continues_trials(): a worker then brings the controller up to the study's
  // log before it starts a job another worker may have queued.
  virtual bool continues_trials() const { return false; }
  virtual std::optional<JobStart> start_of(const Job& job) const {
    (void)job;
    return std::nullopt;
  }
  // How many trials the whole experiment starts (for a progress line's plan and ETA).
  virtual int planned_trials() const = 0;

  // A line describing the last decision (for the store's decision log); may be empty.
  const std::string& last_decision() const { return last_decision_; }

  virtual nlohmann::json state() const;
  virtual void load_state(const nlohmann::json& state);

  Searcher& searcher() { return *searcher_; }
  const core::SearchSpace& space() const { return space_; }

 protected:
  // Asks the searcher for a new trial's configuration at `budget`.
  Job new_trial(std::int64_t budget);
  void record(const Job& job, double loss);  // tells the searcher

  const core::SearchSpace& space_;
  std::unique_ptr<Searcher> searcher_;
  core::Rng rng_;
  int next_trial_ = 0;
  std::string last_decision_;
};

struct ControllerOptions {
  std::string algorithm = "random";  // random, grid, gp, tpe, sha, hyperband, asha, bohb
  std::string searcher;              // for sha/hyperband/asha: random (default) or tpe
  int num_trials = 20;               // random, gp, tpe, asha (grid: the grid's size)
  int grid_points = 5;
  int initial_points = 0;            // gp/tpe start-up trials (0: default)
  bool tpe_multivariate = true;      // tpe (also as sha/hyperband/asha's searcher): joint model
  std::int64_t max_budget = 81;      // in budget units
  std::int64_t min_budget = 1;
  int eta = 3;                       // hyperband, sha, bohb
  int reduction_factor = 4;          // asha
  int iterations = 1;                // hyperband/bohb/sha: full passes over the brackets
};

using core::values_from_json;
using core::values_to_json;

std::unique_ptr<Controller> make_controller(const ControllerOptions& options, const core::SearchSpace& space,
                                            std::uint64_t seed);

}  // namespace graybox::controllers
