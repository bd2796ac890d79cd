// The `dac.` config keys of the control env (ControlOptions) and their reader.
#pragma once

#include "core/config.hpp"
#include "dac/control_env.hpp"

namespace graybox::dac {

void add_control_schema(core::ConfigSchema& schema);
// Reads the dac. keys; an inconsistent pair (lr_min >= lr_max) is a ConfigError naming the key.
ControlOptions control_options(const core::Config& config);

}  // namespace graybox::dac
