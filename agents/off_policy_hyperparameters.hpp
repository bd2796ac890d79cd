// SAC's and TD3's keys: CleanRL's names and defaults (sac_continuous_action.py,
// td3_continuous_action.py), each with a one-line doc. Per-update hyperparameters are read at
// every update, so a controller (PBT, replay.file) may change any of them between iterations.
#pragma once

#include <string>
#include <vector>

#include "agents/off_policy.hpp"
#include "core/config.hpp"

namespace graybox::agents {

// Adds the agent.* keys of agent.algo sac and td3 (as schema variants) and checkpoint.replay_buffer.
void add_off_policy_schema(core::ConfigSchema& schema);

const std::vector<std::string>& sac_hyperparameter_names();
const std::vector<std::string>& td3_hyperparameter_names();

OffPolicyConfig off_policy_config(const core::Config& config);

}  // namespace graybox::agents
