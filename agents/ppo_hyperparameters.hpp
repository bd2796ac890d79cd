// PPO's hyperparameters: CleanRL's names and defaults (ppo_continuous_action.py), each with a
// one-line doc. They live in a core::Hyperparameters object that the agent reads at every
// update, so a controller may change any of them between updates.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/hyperparameters.hpp"

namespace graybox::agents {

// Adds every "agent.*" key of PPO to a schema.
void add_ppo_schema(core::ConfigSchema& schema);

// The names of the tunable PPO hyperparameters (keys under "agent.").
const std::vector<std::string>& ppo_hyperparameter_names();

// Checks values a controller set (same rules as the schema); throws std::invalid_argument.
void check_ppo_hyperparameters(const core::Hyperparameters& hp);

// The network shape (not changeable during training).
struct PpoNetworkConfig {
  std::vector<long long> hidden_sizes{64, 64};
  double init_log_std = 0.0;
  int update_threads = 1;  // 2: the actor's and critic's passes of an update run side by side
};
PpoNetworkConfig ppo_network_config(const core::Config& config);

}  // namespace graybox::agents
