// What SAC and TD3 share around their updates (CleanRL's loop in sac_continuous_action.py and
// td3_continuous_action.py): uniform random actions before learning_starts, the replay buffer
// (filled with the acted-on observations and the envs' next or final observations), one update
// per vector step after learning_starts, and the checkpoint of buffer, counters and stream.
// The algorithms supply exploration, deterministic actions, the update itself and the list of
// their learner's parts (networks, optimizers, tensors), which this class saves, loads, copies
// and checksums.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agents/agent.hpp"
#include "agents/agent_shape.hpp"
#include "agents/replay_buffer.hpp"
#include "core/rng.hpp"

namespace graybox::agents {

struct LearnerParts;  // agents/learner_parts.hpp

// What an off-policy agent fixes for the run's life.
struct OffPolicyConfig {
  std::vector<long long> hidden_sizes{256, 256};
  std::int64_t buffer_size = 1000000;
  bool checkpoint_buffer = true;  // checkpoint.replay_buffer
  // agent.autograd_update: the update through LibTorch's autograd (the reference) instead of
  // the hand-written passes (agents/mlp_pass.hpp).
  bool autograd_update = false;
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
  std::string divergence() const override;
  void report(std::int64_t step, core::MetricSink& sink) override;
  // Over the trained networks (not the targets) and the loose tensors.
  double parameter_checksum() const override;

  const ReplayBuffer& replay_buffer() const { return buffer_; }
  // For tests: actor updates so far; every parameter of one network (by its part name), flattened.
  std::int64_t actor_updates() const { return stats_.actor_updates; }
  std::vector<float> parameters_of(const std::string& network) const;
  // CleanRL's global_step of the update due now: vector steps before the last observed one.
  std::int64_t vector_step() const { return vector_steps_ - 1; }

 protected:
  // Exploration actions from the policy (after learning_starts), within the bounds.
  virtual void explore(const double* obs, int n, const core::Hyperparameters& hp, double* actions) = 0;
  // The learner's parts by name (pointers into the algorithm's own members).
  virtual LearnerParts parts() const = 0;
  virtual const char* algorithm() const = 0;  // "SAC", "TD3": for messages
  // Metrics beyond the critics' and the actor's (SAC: α), reported with them.
  virtual void report_more(std::int64_t, core::MetricSink&) {}

  // The checks every off-policy algorithm shares; throws std::invalid_argument naming the key.
  void check_common_hyperparameters(const core::Hyperparameters& hp) const;
  static void require(const char* name, bool ok, const char* rule);
  // count standard normal draws from the agent's stream (a buffer reused by the next call).
  std::vector<float>& normal_draws(std::size_t count);

  // The last update's losses and the counters every off-policy learner reports and copies.
  struct Stats {
    std::int64_t actor_updates = 0;
    bool updated = false, reported = true;
    double qf1_values = 0, qf2_values = 0, qf1_loss = 0, qf2_loss = 0, actor_loss = 0, alpha_loss = 0, alpha = 0;
  };
  Stats stats_;
  // The critics' losses and mean Q values of this update (from any struct with those fields).
  template <typename Fit>
  void record_critics(const Fit& fit) {
    stats_.qf1_loss = fit.qf1_loss;
    stats_.qf2_loss = fit.qf2_loss;
    stats_.qf1_values = fit.qf1_values;
    stats_.qf2_values = fit.qf2_values;
  }

  AgentShape shape_;
  OffPolicyConfig config_;
  ReplayBuffer buffer_;
  core::Rng rng_;  // random actions, exploration noise, replay samples
  // The actor changed since its float acting copy was taken (an update of it, a load, a copy):
  // the algorithm refreshes the copy before it acts next.
  bool acting_copy_stale_ = true;
  // A batch sampled from the buffer, batch x dim.
  void sample(int batch);
  std::vector<float> batch_obs_, batch_actions_, batch_rewards_, batch_next_obs_, batch_dones_;

 private:
  std::int64_t vector_steps_ = 0;  // vector steps observed
  std::vector<double> obs_, actions_;  // the last act()'s observations and actions
  std::vector<std::int64_t> indices_;
  std::vector<float> draws_;
};

}  // namespace graybox::agents
