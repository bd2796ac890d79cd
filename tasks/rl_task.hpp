// RlTask: an agent (agents::Agent: PPO, SAC or TD3) learning in a MuJoCo VecEnv, as a
// Trainable. One iteration is the agent's iteration_steps vector steps: at each, the agent acts
// on the current observations, the envs step, the agent observes the transition and updates when
// one is due; then the agent reports its metrics. The hyperparameters are passed to the agent at
// every call, so a change takes effect at the next update. Its saved state is complete (the
// agent's, every env's physics state, counters), so a resumed run continues with the same
// numbers as one that was never stopped.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "agents/agent.hpp"
#include "agents/agent_config.hpp"
#include "core/config.hpp"
#include "core/trainable.hpp"
#include "envs/vec_env.hpp"

namespace graybox::tasks {

struct RlTaskConfig {
  std::uint64_t seed = 1;
  std::int64_t total_steps = 1000000;
  std::string env_id = "Hopper-v5";
  envs::EnvOptions env_options;
  int num_envs = 1;
  int num_threads = 1;
  agents::AgentSpec agent;
  core::Hyperparameters hyperparameters;
  // LibTorch intra-op threads, set on whichever thread trains or evaluates the task (a tune
  // trial or population member runs on a TBB worker whose own count would default to all cores).
  int torch_threads = 1;
};

// Adds the keys of an RL training config (seed, total_steps, env.*, agent.*) to a schema.
void add_rl_schema(core::ConfigSchema& schema);
// Builds the task config from a validated config; env problems become ConfigErrors naming
// the config key.
RlTaskConfig rl_task_config(const core::Config& config);
// Env steps (all envs together) in one iteration of a task with this config.
std::int64_t iteration_env_steps(const RlTaskConfig& config);

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
  // In memory: the agent's complete state (Agent::copy_state_from), every env's physics state,
  // counters. The seed and the rest of the config stay this task's own.
  void copy_state_from(const core::Trainable& other) override;
  // A new stream for the agent (action noise, minibatches, replay samples) and a new reset
  // stream for every env.
  void reseed(std::uint64_t seed) override;

  // One iteration. Returns false if the run is finished.
  bool iterate(core::MetricSink& sink);
  // Mean return of the last 10 finished training episodes (NaN before the first).
  double recent_return() const;
  std::int64_t episodes_done() const { return episodes_; }
  std::int64_t unstable_episodes() const { return unstable_; }
  std::int64_t iterations_done() const { return iteration_; }
  // True once an update produced a non-finite loss or parameters (the run then stops).
  bool diverged() const { return diverged_; }
  const RlTaskConfig& config() const { return config_; }
  // Wall-clock seconds spent acting and stepping, and in updates (for benchmarks).
  double rollout_seconds() const { return rollout_seconds_; }
  double update_seconds() const { return update_seconds_; }
  agents::Agent& agent() { return *agent_; }
  // Deterministic actions for the current observations (for checkpoint lockstep tests).
  std::vector<float> current_mean_actions();

 private:
  RlTaskConfig config_;
  core::Hyperparameters hp_;
  std::unique_ptr<envs::VecEnv> vec_;
  std::unique_ptr<agents::Agent> agent_;

  std::vector<double> obs_raw_;    // current observations, num_envs x obs_dim
  std::int64_t global_step_ = 0;
  std::int64_t iteration_ = 0;
  std::int64_t episodes_ = 0;
  std::int64_t unstable_ = 0;
  std::deque<double> recent_returns_;
  double rollout_seconds_ = 0.0, update_seconds_ = 0.0;
  bool diverged_ = false;
};

}  // namespace graybox::tasks
