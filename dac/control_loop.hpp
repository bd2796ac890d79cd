// ControlLoop: the control of one supervised run's learning rate and weight decay, apart from
// where the run comes from. The control env (dac/control_env.hpp) runs it over an instance's
// task; `graybox fit --set controller.policy=PATH` runs it over the fit's own task, so a
// deployed policy sees exactly the observations it was trained on and acts through the same
// code. One step applies the action to the task's hyperparameters, trains min(K, budget left)
// minibatches, then reads the features; ControlEnv's header documents the actions, the
// observation and the rewards.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/trainable.hpp"
#include "dac/features.hpp"
#include "envs/env.hpp"
#include "optim/schedule.hpp"
#include "tasks/supervised_task.hpp"

namespace graybox::dac {

enum class ActionMode { kMultiplicative, kAbsolute, kRelative };
// dense: -(change of log training loss) every step; sparse: -validation loss at the end;
// dense_val: -(change of log validation loss) at every validation pass (and 0 between), whose
// sum is log(start / final validation loss): the final validation loss, scale-free across
// instances, with credit along the way.
enum class RewardKind { kDense, kSparse, kDenseVal };

// Where an episode's seconds went: the minibatches (SupervisedTask::train), the validation
// passes, and the rest of step() (the action, setting the optimizer, the features).
struct ControlTiming {
  double train_s = 0, validation_s = 0, overhead_s = 0;
};

struct ControlOptions {
  std::int64_t control_interval = 50;  // minibatches per env step (K)
  ActionMode action_mode = ActionMode::kMultiplicative;
  bool control_weight_decay = true;
  double max_log10_change = 0.1;       // multiplicative: per-step bound on |Δ log10 value|
  double max_log10_offset = 1.0;       // relative: bound on |log10 value − log10 the run's start value|
  // relative: the lr's offsets are taken from the run's start value times this schedule of the
  // baselines (dac/baselines.hpp: constant, step, cosine, sgdr, warmup_cosine) over the budget,
  // at the middle of each step's minibatches; the policy learns corrections to it.
  std::string base_schedule = "constant";
  double lr_min = 1e-5, lr_max = 1.0;
  double wd_min = 1e-6, wd_max = 1.0;
  std::int64_t val_interval = 10;      // env steps between validation passes (0: reset and end only)
  double feature_decay = 0.98;         // per minibatch, for loss_mean and loss_std
  RewardKind reward = RewardKind::kDense;
  double crash_penalty = 10.0;
};

// Throws std::invalid_argument naming the option ("control_interval: must be >= 1").
void check_options(const ControlOptions& options);
// The action space of these options: act_dim 2 (lr, wd) or 1, and the bounds of each mode.
void action_space(const ControlOptions& options, envs::EnvSpec& spec);

class ControlLoop {
 public:
  static constexpr int kObsDim = 10;

  // Controls `task` (which must outlive the loop) for `budget` minibatches in all.
  ControlLoop(tasks::SupervisedTask& task, const ControlOptions& options, std::int64_t budget);
  ~ControlLoop();

  // The run's start: lr and wd clamped to their ranges and set, the validation loss measured.
  void start(double lr, double weight_decay);
  // Applies the action, trains the step's minibatches (their metrics also go to `also`), reads
  // the features. A non-finite loss ends the run as crashed with reward −crash_penalty.
  envs::StepResult step(const double* action, core::MetricSink& also);
  void write_obs(double* obs) const;

  double lr() const { return lr_; }
  double weight_decay() const { return wd_; }
  bool crashed() const { return crashed_; }
  bool done() const { return done_; }
  double last_train_loss() const { return train_loss_; }  // mean over the last step
  double last_val_loss() const { return val_loss_; }
  double episode_return() const { return return_; }
  std::int64_t episode_length() const { return length_; }
  const ControlTiming& timing() const { return timing_; }  // since start

  // The loop's own state between steps into dir (control.json, control_direction.bin); the
  // task saves and loads itself. load expects the task already loaded; throws core::UserError
  // naming the file.
  void save(const std::string& dir) const;
  void load(const std::string& dir);

 private:
  class Sink;
  void apply(const double* action, std::int64_t minibatches);
  void set_task_values();

  tasks::SupervisedTask& task_;
  ControlOptions options_;
  std::int64_t budget_;
  double log_chance_ = 0;
  std::unique_ptr<Sink> sink_;
  DiscountedStats stats_;
  UpdateAlignment alignment_;
  std::vector<float> theta_;
  std::shared_ptr<const optim::Schedule> base_;  // null: constant 1
  double lr_ = 0, wd_ = 0;
  double start_lr_ = 0, start_wd_ = 0;  // the clamped values of start(): relative actions offset these
  double train_loss_ = 0, log_train_prev_ = 0, val_loss_ = 0, grad_norm_ = 0;
  bool crashed_ = false, done_ = false;
  double return_ = 0;
  std::int64_t length_ = 0;
  ControlTiming timing_;
};

}  // namespace graybox::dac
