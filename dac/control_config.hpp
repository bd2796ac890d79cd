// The `dac.` config keys of the control env (ControlOptions) and their reader.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/config.hpp"
#include "dac/control_env.hpp"

namespace graybox::dac {

void add_control_schema(core::ConfigSchema& schema);
// Reads the dac. keys; an inconsistent pair (lr_min >= lr_max) is a ConfigError naming the key.
ControlOptions control_options(const core::Config& config);

// "multiplicative", "absolute", "relative"; from_name throws std::invalid_argument for another.
const char* action_mode_name(ActionMode mode);
ActionMode action_mode_from_name(const std::string& name);
const char* reward_name(RewardKind reward);
// Throws std::invalid_argument for an unknown name.
RewardKind reward_from_name(const std::string& name);

// The options as JSON (what a saved policy carries, so deployment controls as training did)
// and back; from_json throws std::runtime_error for a missing or bad field.
nlohmann::json control_options_to_json(const ControlOptions& options);
ControlOptions control_options_from_json(const nlohmann::json& j);

}  // namespace graybox::dac
