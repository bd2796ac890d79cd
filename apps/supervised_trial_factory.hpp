// Trials of `graybox tune` with task: supervised — a `graybox fit` run of a base config with the
// trial's overrides. A budget unit is `minibatches_per_unit` minibatches (0: one epoch); the
// score is the validation accuracy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/trial_factory.hpp"

namespace graybox::apps {

std::unique_ptr<core::TrialFactory> make_supervised_trial_factory(const std::string& base_config,
                                                                  std::int64_t minibatches_per_unit = 0);

}  // namespace graybox::apps
