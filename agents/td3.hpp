// TD3 (CleanRL's td3_continuous_action.py): a deterministic tanh actor scaled to the action
// bounds, twin Q networks, target policy smoothing (clipped Gaussian noise on the target
// actor's actions), delayed actor and target updates (every policy_frequency steps) and
// Gaussian exploration noise of exploration_noise x the action scale. One update per vector step
// after learning_starts; every hyperparameter is read at each update.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agents/off_policy.hpp"

namespace graybox::agents {

class Td3Agent final : public OffPolicyAgent {
 public:
  Td3Agent(const AgentShape& shape, const OffPolicyConfig& config, std::uint64_t seed);
  ~Td3Agent() override;

  void check_hyperparameters(const core::Hyperparameters& hp) const override;
  // Through the actor's float copy; _reference: the same function through LibTorch (for tests).
  void act_deterministic(const double* obs, int n, double* actions) override;
  void act_deterministic_reference(const double* obs, int n, double* actions);
  bool update(const core::Hyperparameters& hp, const UpdateContext& context) override;
  // Networks for parameters_of: actor, target_actor, qf1, qf2, qf1_target, qf2_target.

 protected:
  void explore(const double* obs, int n, const core::Hyperparameters& hp, double* actions) override;
  LearnerParts parts() const override;
  const char* algorithm() const override { return "TD3"; }

 private:
  struct UpdateStep;  // the hyperparameters one update reads
  void update_autograd(const UpdateStep& step);
  void update_by_hand(const UpdateStep& step);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace graybox::agents
