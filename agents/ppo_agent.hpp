// PpoAgent: CleanRL's PPO behind the Agent interface. It owns the learner (networks and Adam),
// the rollout buffer, the observation normaliser and reward scaler, and the stream for action
// noise and minibatch order. One iteration is one rollout of num_steps vector steps, then one
// update (GAE, then epochs of minibatches) at a learning rate read at the rollout's first step.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agents/agent.hpp"
#include "agents/agent_shape.hpp"
#include "agents/normalizers.hpp"
#include "agents/ppo.hpp"
#include "agents/ppo_policy.hpp"
#include "agents/rollout_buffer.hpp"
#include "core/config.hpp"
#include "core/rng.hpp"
#include "optim/schedule.hpp"

namespace graybox::agents {

// What PPO fixes for the run's life (the rest are per-update hyperparameters).
struct PpoAgentConfig {
  PpoNetworkConfig network;
  bool normalize_obs = true, normalize_reward = true;
  double obs_clip = 10.0, reward_clip = 10.0;
  // Multiplies the learning rate, as a function of env steps. Type "auto": CleanRL's linear
  // annealing to 0 when agent.anneal_lr (read at every update), else constant.
  optim::ScheduleSpec lr_schedule{};
};
// From a validated config of agent.algo ppo; a bad schedule fails naming its key.
PpoAgentConfig ppo_agent_config(const core::Config& config);

class PpoAgent final : public Agent {
 public:
  PpoAgent(const AgentShape& shape, const PpoAgentConfig& config, std::uint64_t seed);

  void check_hyperparameters(const core::Hyperparameters& hp) const override;
  std::int64_t iteration_steps(const core::Hyperparameters& hp) const override;
  void begin(const double* obs, int n) override;
  void act(const double* obs, int n, const core::Hyperparameters& hp, double* actions) override;
  void act_deterministic(const double* obs, int n, double* actions) override;
  void observe(const Transition& transition, const core::Hyperparameters& hp) override;
  bool update_due(const core::Hyperparameters& hp) const override;
  bool update(const core::Hyperparameters& hp, const UpdateContext& context) override;
  std::string divergence() const override;
  void report(std::int64_t step, core::MetricSink& sink) override;
  void reseed(std::uint64_t seed) override;
  void save(const std::string& dir, nlohmann::json& state) const override;
  void load(const std::string& dir, const nlohmann::json& state) override;
  void copy_state_from(const Agent& other) override;
  double parameter_checksum() const override;
  // The deterministic policy for deployment: the actor, the observation normaliser's frozen
  // statistics and the action bounds; `meta` travels with it into policy.pt.
  PpoPolicy policy(const std::string& meta) const;

 private:
  double learning_rate(const core::Hyperparameters& hp, std::int64_t rollout_start, std::int64_t total_steps) const;

  AgentShape shape_;
  PpoAgentConfig config_;
  std::shared_ptr<const optim::Schedule> lr_schedule_;  // null for "auto"
  std::unique_ptr<PpoLearner> learner_;
  ObsNormalizer obs_norm_;
  RewardScaler reward_scaler_;
  RolloutBuffer buffer_;
  core::Rng rng_;                  // action noise and minibatch order
  std::vector<float> obs_;         // the current observations, normalised
  std::vector<float> next_done_;   // per env: the current observation starts an episode
  std::vector<float> actions_;     // the last act()'s sampled actions
  int cursor_ = 0;                 // vector steps in the rollout so far
  PpoUpdateStats stats_;
  bool reported_ = true;           // the last update's metrics went out
};

}  // namespace graybox::agents
