// ControlEnv: dynamic control of a supervised training run's learning rate and weight decay,
// with the semantics of envs::Env (reset with a seed; step -> observation, reward, terminated,
// truncated) but no MuJoCo. An episode is one training run of an instance (dac/instance.hpp);
// one step applies the action, then runs control_interval minibatches (fewer for the last
// step of the budget) through tasks::SupervisedTask::train.
//
// Actions (act_dim 2: lr, weight decay; 1 when control_weight_decay is false):
//   multiplicative: a in [−1, 1] (clipped), log10 value += a·max_log10_change, so each step
//                   multiplies the value by at most 10^±max_log10_change;
//   absolute:       a is the log10 value itself, clipped to [log10 min, log10 max];
//   relative:       a in [−1, 1] (clipped), log10 value = log10 start + a·max_log10_offset, where
//                   start is the run's value at reset: the action is the value itself, as an
//                   offset from the instance's, so a = 0 keeps it and exploration noise does
//                   not accumulate over the episode. With base_schedule (e.g. cosine) the lr's
//                   start is multiplied by that baseline schedule at the middle of the step's
//                   minibatches first: the policy learns corrections to the schedule.
//   Either way the value is then clamped to [lr_min, lr_max] (and [wd_min, wd_max]); an
//   instance's initial values are clamped the same way at reset.
//
// Observation (kObsDim values; C = classes, ln C = the loss of a uniform guess):
//   0 train_loss   log(L / ln C), L = mean training loss of the step's minibatches (0 at reset)
//   1 loss_mean    discounted mean of log(minibatch loss / ln C) (decay feature_decay per minibatch)
//   2 loss_std     the square root of its discounted variance (dimensionless)
//   3 val_loss     log(V / ln C), V = validation loss, measured at reset, every val_interval
//                  steps and at the end; held in between
//   4 grad_norm    log10 of the L2 norm of the last minibatch's gradient (0 at reset)
//   5 alignment    cosine of the last two update directions (θ after a step − θ before it); 0 at first
//   6 log_lr       log10 lr mapped linearly from [log10 lr_min, log10 lr_max] to [−1, 1]
//   7 log_wd       the same for the weight decay
//   8 progress     minibatches done / budget, in [0, 1]
//   9 crashed      1 after a non-finite training loss, else 0
// Every value is finite and clipped to [−10, 10]. The observation, the actions and the rewards
// are computed by dac::ControlLoop (dac/control_loop.hpp), which deployment shares.
//
// Rewards: dense: −(log L_t − log L_{t−1}) with L_0 = ln C, so an episode's return is
// log(ln C / L_last); sparse: 0 until the last step, then −V (the final validation loss).
// A non-finite training loss ends the episode (terminated) with reward −crash_penalty; the
// task records it as diverged. The budget's end is terminated too (the progress feature makes
// it part of the state), never truncated.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/trainable.hpp"
#include "dac/control_loop.hpp"
#include "dac/instance.hpp"
#include "envs/env.hpp"
#include "tasks/supervised_task.hpp"

namespace graybox::dac {

class ControlEnv {
 public:
  static constexpr int kObsDim = ControlLoop::kObsDim;

  ControlEnv(std::vector<Instance> instances, ControlOptions options);
  ~ControlEnv();

  const envs::EnvSpec& spec() const { return spec_; }
  const ControlOptions& options() const { return options_; }
  const std::vector<Instance>& instances() const { return instances_; }

  // Draws an instance uniformly and a run seed from `seed`, then starts its run.
  void reset(std::uint64_t seed, double* obs);
  // Starts the run of instances()[index] with the given run seed (evaluation).
  void reset_instance(std::size_t index, std::uint64_t run_seed, double* obs);
  envs::StepResult step(const double* action, double* obs);
  // step() whose minibatches also report their metrics (train/loss, charts/learning_rate, ...)
  // to `sink`.
  envs::StepResult step(const double* action, double* obs, core::MetricSink& sink);

  const Instance& instance() const { return instances_.at(index_); }
  std::size_t instance_index() const { return index_; }
  std::uint64_t run_seed() const { return run_seed_; }
  double lr() const { return loop().lr(); }
  double weight_decay() const { return loop().weight_decay(); }
  bool crashed() const { return loop().crashed(); }
  bool done() const { return !loop_ || loop_->done(); }
  std::int64_t minibatches_done() const;
  double last_train_loss() const { return loop().last_train_loss(); }  // mean over the last step
  double last_val_loss() const { return loop().last_val_loss(); }
  double episode_return() const { return loop().episode_return(); }
  std::int64_t episode_length() const { return loop().episode_length(); }
  tasks::SupervisedTask& task() { return *task_; }
  DataCache& data() { return data_; }
  const ControlTiming& timing() const { return loop().timing(); }  // since the last reset
  void write_obs(double* obs) const { loop().write_obs(obs); }

  // The episode in progress (the instance, the run's complete state, the controller's) into
  // an existing folder, and back; load throws core::UserError naming the file.
  void save(const std::string& dir) const;
  void load(const std::string& dir);

 private:
  void start_task(std::size_t index, std::uint64_t run_seed);
  const ControlLoop& loop() const;

  std::vector<Instance> instances_;
  ControlOptions options_;
  envs::EnvSpec spec_;
  DataCache data_;
  std::unique_ptr<tasks::SupervisedTask> task_;
  std::unique_ptr<ControlLoop> loop_;
  std::size_t index_ = 0;
  std::uint64_t run_seed_ = 0;
};

}  // namespace graybox::dac
