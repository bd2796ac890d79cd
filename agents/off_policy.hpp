// What SAC and TD3 share around their updates (CleanRL's loop in sac_continuous_action.py and
// td3_continuous_action.py): uniform random actions before learning_starts, the replay buffer
// (filled with the acted-on observations and the envs' next or final observations), one update
// per vector step after learning_starts, and the checkpoint of buffer, counters and stream.
// The algorithms supply exploration, deterministic actions and the update itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agents/agent.hpp"
#include "agents/agent_shape.hpp"
#include "agents/replay_buffer.hpp"
#include "core/rng.hpp"

namespace graybox::agents {

// What an off-policy agent fixes for the run's life.
struct OffPolicyConfig {
  std::vector<long long> hidden_sizes{256, 256};
  std::int64_t buffer_size = 1000000;
  bool checkpoint_buffer = true;  // checkpoint.replay_buffer
};

class OffPolicyAgent : public Agent {
 public:
  OffPolicyAgent(const AgentShape& shape, const OffPolicyConfig& config, std::uint64_t seed);

  std::int64_t iteration_steps(const core::Hyperparameters& hp) const override;
  void begin(const double* obs, int n) override;
  void act(const double* obs, int n, const core::Hyperparameters& hp, double* actions) override;
  void observe(const Transition& transition, const core::Hyperparameters& hp) override;
  bool update_due(const core::Hyperparameters& hp) const override;
  void reseed(std::uint64_t seed) override;
  void save(const std::string& dir, nlohmann::json& state) const override;
  void load(const std::string& dir, const nlohmann::json& state) override;
  void copy_state_from(const Agent& other) override;

  const ReplayBuffer& replay_buffer() const { return buffer_; }
  // CleanRL's global_step of the update due now: vector steps before the last observed one.
  std::int64_t vector_step() const { return vector_steps_ - 1; }

 protected:
  // Exploration actions from the policy (after learning_starts), within the bounds.
  virtual void explore(const double* obs, int n, const core::Hyperparameters& hp, double* actions) = 0;
  // The networks, optimizers and α: files under dir, or copied from another agent of this kind
  // (throws std::invalid_argument otherwise).
  virtual void save_learner(const std::string& dir) const = 0;
  virtual void load_learner(const std::string& dir) = 0;
  virtual void copy_learner(const OffPolicyAgent& other) = 0;

  AgentShape shape_;
  OffPolicyConfig config_;
  ReplayBuffer buffer_;
  core::Rng rng_;  // random actions, exploration noise, replay samples
  // A batch sampled from the buffer, batch x dim.
  void sample(int batch);
  std::vector<float> batch_obs_, batch_actions_, batch_rewards_, batch_next_obs_, batch_dones_;

 private:
  std::int64_t vector_steps_ = 0;  // vector steps observed
  std::vector<double> obs_, actions_;  // the last act()'s observations and actions
  std::vector<std::int64_t> indices_;
};

}  // namespace graybox::agents
