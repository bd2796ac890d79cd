// MetaTrainer: PPO (agents::PpoAgent, the same agent `graybox train` uses) learning to control
// the learning rate and weight decay on the control env over a set of training instances.
// num_envs control envs step side by side on TBB, each a whole supervised training run per
// episode; an ended episode is reset at once with the env's next reset seed (drawn from a
// stream of its own, so the numbers do not depend on the thread count). One iteration is one
// PPO rollout of num_steps control steps per env, then one update. As a core::Trainable its
// budget counts control steps (all envs together) and its hyperparameters are PPO's; its saved
// state is complete (the agent, every env's run in progress, counters, streams), so a resumed
// meta-training continues with the same numbers as one never stopped.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "agents/ppo_agent.hpp"
#include "core/rng.hpp"
#include "core/trainable.hpp"
#include "dac/control_env.hpp"

namespace graybox::dac {

struct MetaTrainConfig {
  std::uint64_t seed = 1;
  std::int64_t total_steps = 10000;  // control steps, all envs together
  int num_envs = 4;                  // episodes side by side
  int num_threads = 1;               // TBB threads stepping them (0: all cores)
  agents::PpoAgentConfig ppo;
  core::Hyperparameters hyperparameters;  // PPO's (agents/ppo_hyperparameters.hpp)
  ControlOptions control;
  std::vector<Instance> instances;  // the training set
};

class MetaTrainer final : public core::Trainable {
 public:
  explicit MetaTrainer(const MetaTrainConfig& config);
  ~MetaTrainer() override;

  const core::Hyperparameters& hyperparameters() const override { return hp_; }
  void set_hyperparameters(const core::Hyperparameters& hp) override;
  std::int64_t steps_done() const override { return global_step_; }
  bool finished() const override;
  void train(std::int64_t budget, core::MetricSink& sink) override;
  // Deterministic episodes (the policy's mean action) on the training instances, instance
  // k mod count with run seed k from the eval stream: the returns.
  core::EvalResult evaluate(int episodes) override;
  void save(const std::string& dir) const override;
  void load(const std::string& dir) override;
  void reseed(std::uint64_t seed) override;
  // Throws std::invalid_argument: the envs' runs in progress are not copied in memory
  // (nothing in graybox populates meta-training).
  void copy_state_from(const core::Trainable& other) override;

  // One iteration (rollout and update). Returns false if the run is finished.
  bool iterate(core::MetricSink& sink);
  // Mean return of the last 20 finished episodes (NaN before the first).
  double recent_return() const;
  std::int64_t episodes_done() const { return episodes_; }
  std::int64_t crashed_episodes() const { return crashed_; }
  // Minibatches the envs trained so far: the meta-training cost.
  std::int64_t minibatches_done() const { return minibatches_; }
  bool diverged() const { return diverged_; }
  const MetaTrainConfig& config() const { return config_; }
  agents::PpoAgent& agent() { return *agent_; }
  // The deterministic policy with `meta` (e.g. the control options) for policy.pt.
  agents::PpoPolicy policy(const std::string& meta) const;

 private:
  struct EnvSlot;
  void reset_env(EnvSlot& slot, double* obs);

  MetaTrainConfig config_;
  core::Hyperparameters hp_;
  std::unique_ptr<agents::PpoAgent> agent_;
  std::vector<std::unique_ptr<EnvSlot>> envs_;
  std::vector<double> obs_;  // current observations, num_envs x obs_dim
  std::int64_t global_step_ = 0, iteration_ = 0, episodes_ = 0, crashed_ = 0, minibatches_ = 0;
  std::deque<double> recent_returns_;
  bool diverged_ = false;
};

}  // namespace graybox::dac
