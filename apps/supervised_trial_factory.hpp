// Trials of `graybox tune` with task: supervised — a `graybox fit` run of a base config with the
// trial's overrides. A budget unit is `minibatches_per_unit` minibatches (0: one epoch); the
// score is the validation accuracy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/trial_factory.hpp"

namespace graybox::apps {

// The name under which config key `key` reaches a running supervised task as a hyperparameter
// (optimizer.lr -> learning_rate), or "" for a key fixed for the run's life (model shape, batch).
std::string supervised_hyperparameter_name(const std::string& key);

std::unique_ptr<core::TrialFactory> make_supervised_trial_factory(const std::string& base_config,
                                                                  std::int64_t minibatches_per_unit = 0);

}  // namespace graybox::apps
