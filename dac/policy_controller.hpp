// PolicyController: a meta-trained policy (policy.pt from `graybox control train`) steering
// the learning rate and weight decay of any supervised run, as deployed by
// `graybox fit CONFIG --set controller.policy=PATH`. Every control step it reads the run's
// observation, takes the policy's deterministic action and runs the step through
// dac::ControlLoop with the control options the policy was trained with (stored in its meta),
// so it acts exactly as the policy did in the control env.
#pragma once

#include <memory>
#include <string>

#include "agents/ppo_policy.hpp"
#include "dac/control_loop.hpp"

namespace graybox::dac {

// The policy and its control options from a policy.pt; throws core::UserError naming the path
// for a missing or broken file, or one that is not a controller of this observation.
struct LoadedPolicy {
  std::unique_ptr<agents::PpoPolicy> policy;
  ControlOptions options;
};
LoadedPolicy load_control_policy(const std::string& path);

class PolicyController {
 public:
  // Controls `task` (which must outlive it) for `budget` minibatches.
  PolicyController(LoadedPolicy loaded, tasks::SupervisedTask& task, std::int64_t budget);

  const ControlOptions& options() const { return options_; }
  ControlLoop& loop() { return loop_; }
  bool done() const { return loop_.done(); }
  // The run's start at these values (clamped to the policy's ranges).
  void start(double lr, double weight_decay) { loop_.start(lr, weight_decay); }
  // The policy's action on the current observation, then one control step; the minibatches'
  // metrics go to `sink`.
  envs::StepResult step(core::MetricSink& sink);
  // The action step() would take now (the observation of the run as it stands).
  void next_action(double* action);

 private:
  std::unique_ptr<agents::PpoPolicy> policy_;
  ControlOptions options_;
  ControlLoop loop_;
};

}  // namespace graybox::dac
