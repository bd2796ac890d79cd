// Trials of `graybox tune` with task: rl — a PPO run of a base training config with the trial's
// overrides. A budget unit is `unit` env steps; the score is the mean return of the last 10
// training episodes (final_return) or of deterministic evaluation episodes (eval_return).
#pragma once

#include <memory>
#include <string>

#include "core/trial_factory.hpp"

namespace graybox::apps {

// The name under which config key `key` reaches a running RL task as a hyperparameter
// (agent.learning_rate -> learning_rate), or "" for a key fixed for the run's life.
std::string rl_hyperparameter_name(const std::string& key);

std::unique_ptr<core::TrialFactory> make_rl_trial_factory(const std::string& base_config, std::int64_t unit,
                                                          const std::string& metric, int eval_episodes);

}  // namespace graybox::apps
