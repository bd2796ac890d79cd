// RlTask: a PPO agent learning in a MuJoCo VecEnv, as a Trainable. One iteration collects
// num_steps x num_envs transitions, then runs one PPO update; the hyperparameters are read
// afresh at each iteration. Its saved state is complete (networks, Adam moments, normaliser
// statistics, every RNG, every env's physics state, counters), so a resumed run continues with
// the same numbers as one that was never stopped.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "agents/ppo.hpp"
#include "agents/normalizers.hpp"
#include "core/config.hpp"
#include "core/trainable.hpp"
#include "envs/vec_env.hpp"
#include "optim/schedule.hpp"

namespace graybox::tasks {

struct RlTaskConfig {
  std::uint64_t seed = 1;
  std::int64_t total_steps = 1000000;
  std::string env_id = "Hopper-v5";
  envs::EnvOptions env_options;
  int num_envs = 1;
  int num_threads = 1;
  agents::PpoNetworkConfig network;
  bool normalize_obs = true, normalize_reward = true;
  double obs_clip = 10.0, reward_clip = 10.0;
  core::Hyperparameters hyperparameters;
  // Multiplies the learning rate, as a function of env steps. Type "auto": CleanRL's linear
  // annealing to 0 when agent.anneal_lr (read at every update), else constant.
  optim::ScheduleSpec lr_schedule{};
  // LibTorch intra-op threads, set on whichever thread trains or evaluates the task (a tune
  // trial or population member runs on a TBB worker whose own count would default to all cores).
  int torch_threads = 1;
};

// Adds the keys of an RL training config (seed, total_steps, env.*, agent.*) to a schema.
void add_rl_schema(core::ConfigSchema& schema);
// Builds the task config from a validated config; env problems become ConfigErrors naming
// the config key.
RlTaskConfig rl_task_config(const core::Config& config);

class RlTask : public core::Trainable {
 public:
  explicit RlTask(const RlTaskConfig& config);
  ~RlTask() override;

  const core::Hyperparameters& hyperparameters() const override { return hp_; }
  void set_hyperparameters(const core::Hyperparameters& hp) override;
  std::int64_t steps_done() const override { return global_step_; }
  bool finished() const override;
  void train(std::int64_t budget, core::MetricSink& sink) override;
  core::EvalResult evaluate(int episodes) override;
  // evaluate() that calls observer(env, episode) after each reset and after every step (e.g. to
  // render the episodes); the observer must not change the env.
  using EvalObserver = std::function<void(const envs::Env& env, int episode)>;
  core::EvalResult evaluate(int episodes, const EvalObserver& observer);
  void save(const std::string& dir) const override;
  void load(const std::string& dir) override;
  // In memory: networks and Adam moments (PpoAgent::copy_from), normaliser statistics, RNG, every
  // env's physics state, counters. The seed and the rest of the config stay this task's own.
  void copy_state_from(const core::Trainable& other) override;
  // New action-noise and minibatch stream, and a new reset stream for every env.
  void reseed(std::uint64_t seed) override;

  // One iteration (rollout + update). Returns false if the run is finished.
  bool iterate(core::MetricSink& sink);
  // Mean return of the last 10 finished training episodes (NaN before the first).
  double recent_return() const;
  std::int64_t episodes_done() const { return episodes_; }
  std::int64_t unstable_episodes() const { return unstable_; }
  std::int64_t iterations_done() const { return iteration_; }
  // True once an update produced a non-finite loss or parameters (the run then stops).
  bool diverged() const { return diverged_; }
  const RlTaskConfig& config() const { return config_; }
  // Wall-clock seconds spent collecting rollouts and in PPO updates (for benchmarks).
  double rollout_seconds() const { return rollout_seconds_; }
  double update_seconds() const { return update_seconds_; }
  agents::PpoAgent& agent() { return *agent_; }
  // Deterministic actions for the current observations (for checkpoint lockstep tests).
  std::vector<float> current_mean_actions();

 private:
  std::int64_t batch_size() const;
  double learning_rate_now() const;

  RlTaskConfig config_;
  core::Hyperparameters hp_;
  std::shared_ptr<const optim::Schedule> lr_schedule_;  // null for "auto"
  std::unique_ptr<envs::VecEnv> vec_;
  std::unique_ptr<agents::PpoAgent> agent_;
  agents::ObsNormalizer obs_norm_;
  agents::RewardScaler reward_scaler_;
  agents::RolloutBuffer buffer_;
  core::Rng rng_;  // action noise and minibatch order

  std::vector<double> obs_raw_;    // current observations, num_envs x obs_dim
  std::vector<float> obs_;         // the same, normalised
  std::vector<float> next_done_;   // per env: the current observation starts an episode
  std::int64_t global_step_ = 0;
  std::int64_t iteration_ = 0;
  std::int64_t episodes_ = 0;
  std::int64_t unstable_ = 0;
  std::deque<double> recent_returns_;
  double rollout_seconds_ = 0.0, update_seconds_ = 0.0;
  bool diverged_ = false;
};

}  // namespace graybox::tasks
