// Before a network is allocated: does training it fit in the memory this process may use? A
// network far too large for the machine is a clear error naming the config key, not an
// out-of-memory kill or an allocator's stack trace.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"

namespace graybox::apps {

// Parameters of a fully connected net from `inputs` through `widths` to `outputs` (weights and biases).
double mlp_parameters(double inputs, const std::vector<long long>& widths, double outputs);

// Training holds every parameter four times in 32-bit floats (weights, gradients and the
// optimizer's two moments). Throws UserError naming `key` (where it was set) if that exceeds
// the memory of the machine or the process's address-space limit.
void check_training_memory(double parameters, const core::Config& config, const std::string& key);

}  // namespace graybox::apps
