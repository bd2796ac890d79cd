// SAC for continuous actions (CleanRL's sac_continuous_action.py): a squashed Gaussian actor
// whose log-std is bounded to [-5, 2] by tanh rescaling, twin Q networks with Polyak-averaged
// targets, and automatic entropy tuning (target entropy -target_entropy_scale x |A|). One update
// per vector step after learning_starts: the critics every step, the actor (and α) policy_frequency
// times every policy_frequency steps, the targets every target_network_frequency steps. Every
// hyperparameter is read at each update.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agents/off_policy.hpp"

namespace graybox::agents {

class SacAgent final : public OffPolicyAgent {
 public:
  SacAgent(const AgentShape& shape, const OffPolicyConfig& config, std::uint64_t seed);
  ~SacAgent() override;

  void check_hyperparameters(const core::Hyperparameters& hp) const override;
  // Acting runs through the actor's float copy; the _reference functions compute the same
  // through LibTorch (for tests: explore_reference draws the same noise from the same stream).
  void act_deterministic(const double* obs, int n, double* actions) override;
  void act_deterministic_reference(const double* obs, int n, double* actions);
  void explore_reference(const double* obs, int n, double* actions);
  bool update(const core::Hyperparameters& hp, const UpdateContext& context) override;
  std::string divergence() const override;
  void copy_state_from(const Agent& other) override;

  // For tests: α now. Networks for parameters_of: actor, qf1, qf2, qf1_target, qf2_target.
  double alpha() const;

 protected:
  void explore(const double* obs, int n, const core::Hyperparameters& hp, double* actions) override;
  LearnerParts parts() const override;
  const char* algorithm() const override { return "SAC"; }
  void report_more(std::int64_t step, core::MetricSink& sink) override;

 private:
  void refresh_acting_copy();
  struct UpdateStep;  // the hyperparameters one update reads
  void update_autograd(const UpdateStep& step);
  void update_by_hand(const UpdateStep& step);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace graybox::agents
