// PPO for continuous actions (CleanRL's ppo_continuous_action.py): separate actor and critic
// tanh MLPs with orthogonal initialisation, a state-independent log-std, the clipped
// surrogate and clipped value loss, per-minibatch advantage normalisation, global grad-norm
// clipping and Adam. LibTorch does the learning; rollouts run on a frozen float copy of the
// networks. Every hyperparameter is read from a core::Hyperparameters at each update.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agents/mlp_inference.hpp"
#include "agents/ppo_hyperparameters.hpp"
#include "agents/rollout_buffer.hpp"
#include "core/hyperparameters.hpp"
#include "core/rng.hpp"

namespace graybox::agents {

struct PpoUpdateStats {
  double learning_rate = 0, policy_loss = 0, value_loss = 0, entropy = 0;
  double old_approx_kl = 0, approx_kl = 0, clipfrac = 0, explained_variance = 0;
  int epochs = 0;  // epochs run (fewer than update_epochs when target_kl stopped early)
};

class PpoLearner {
 public:
  // init_seed seeds the orthogonal initialisation (and nothing else).
  PpoLearner(int obs_dim, int act_dim, const PpoNetworkConfig& network, std::uint64_t init_seed);
  ~PpoLearner();
  PpoLearner(const PpoLearner&) = delete;
  PpoLearner& operator=(const PpoLearner&) = delete;

  int obs_dim() const;
  int act_dim() const;

  // Samples actions for n normalised observations; writes n*act_dim actions and n log-probs
  // and values. Uses rng for the Gaussian noise.
  void act(const float* obs, int n, core::Rng& rng, float* actions, float* logprobs, float* values);
  // The mean action (deterministic evaluation).
  void act_deterministic(const float* obs, int n, float* actions);
  void value(const float* obs, int n, float* values);
  // The frozen copy of the actor that act_deterministic runs (the mean action).
  const MlpInference& actor_inference() const;

  // One PPO update over the buffer (advantages already computed). rng shuffles minibatches.
  PpoUpdateStats update(const RolloutBuffer& buffer, const core::Hyperparameters& hp,
                        double learning_rate, core::Rng& rng);

  // Complete learner state: networks, log-std and the optimizer's moments and step counts.
  // load throws core::UserError naming the file if it is missing or not a valid checkpoint.
  void save(const std::string& path) const;
  void load(const std::string& path);
  // Copies another agent's complete state (in memory), e.g. for a population's exploit step.
  void copy_from(const PpoLearner& other);

  // A fingerprint of all parameters (sum of |w|), for tests and logs.
  double parameter_checksum() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace graybox::agents
