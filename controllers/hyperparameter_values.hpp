// The hyperparameters a configuration sets on a trainable that is already running: PBT's
// members after an exploit or a rollback, and a PBT job that a worker starts from another
// member's checkpoint. One implementation for both, so a member trained by a worker has exactly
// the values it would have in one process.
#pragma once

#include <map>
#include <string>

#include "core/search_space.hpp"
#include "core/trial_factory.hpp"

namespace graybox::controllers {

// Each active dimension's value by the hyperparameter name the factory gives its key; a
// categorical's or fixed dimension's choice as a number (true/false as 1/0). Throws
// core::UserError naming search_space.<key> for a key that cannot change during training or a
// choice that is not a number (`algorithm` says who needs it).
std::map<std::string, double> hyperparameter_values(const core::SearchSpace& space, const core::TrialFactory& factory,
                                                    const core::Configuration& config, const std::string& algorithm);

// Sets those values on `trainable`; a name the trainable does not have is the same UserError.
void set_hyperparameter_values(const core::SearchSpace& space, const core::TrialFactory& factory,
                               const core::Configuration& config, const std::string& algorithm, core::Trainable& trainable);

}  // namespace graybox::controllers
