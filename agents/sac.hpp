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
  void act_deterministic(const double* obs, int n, double* actions) override;
  bool update(const core::Hyperparameters& hp, const UpdateContext& context) override;
  std::string divergence() const override;
  void report(std::int64_t step, core::MetricSink& sink) override;
  double parameter_checksum() const override;

  // For tests: α now, actor updates so far, the critics' and their targets' checksums.
  double alpha() const;
  std::int64_t actor_updates() const;
  // Every parameter of one network (actor, qf1, qf2, qf1_target, qf2_target), flattened, for tests.
  std::vector<float> parameters_of(const std::string& network) const;

 protected:
  void explore(const double* obs, int n, const core::Hyperparameters& hp, double* actions) override;
  void save_learner(const std::string& dir) const override;
  void load_learner(const std::string& dir) override;
  void copy_learner(const OffPolicyAgent& other) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace graybox::agents
