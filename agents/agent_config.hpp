// The agent.* keys of every algorithm and the agent a config builds. agent.algo (ppo, sac, td3)
// selects that algorithm's keys: each is a variant of the schema (core::ConfigSchema), so a key
// of another algorithm is an error naming it and a resolved config holds only the chosen
// algorithm's keys.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agents/agent.hpp"
#include "agents/agent_shape.hpp"
#include "agents/off_policy.hpp"
#include "agents/ppo_agent.hpp"
#include "core/config.hpp"
#include "core/hyperparameters.hpp"

namespace graybox::agents {

// Adds agent.algo and every algorithm's agent.* keys.
void add_agent_schema(core::ConfigSchema& schema);

// What an agent fixes for the run's life, read from a validated config.
struct AgentSpec {
  std::string algo = "ppo";
  PpoAgentConfig ppo;                     // agent.algo ppo
  OffPolicyConfig off_policy;             // agent.algo sac or td3
  std::vector<long long> hidden_sizes;   // the networks' hidden widths (every algorithm)
};
AgentSpec agent_spec(const core::Config& config);

// The per-update hyperparameters of an algorithm (keys under "agent."), and their values.
const std::vector<std::string>& hyperparameter_names(const std::string& algo);
core::Hyperparameters agent_hyperparameters(const core::Config& config);
// True if agent.<name> is a per-update hyperparameter of any algorithm.
bool is_hyperparameter(const std::string& name);
// The key whose value times env.num_envs is one iteration's env steps (agent.num_steps for PPO).
std::string iteration_key(const std::string& algo);
// The inputs and outputs of each of the agent's MLPs (hidden widths: spec.hidden_sizes), for the
// memory check before a run; target networks count as networks.
struct MlpShape {
  int inputs = 0, outputs = 0;
};
std::vector<MlpShape> mlp_shapes(const AgentSpec& spec, int obs_dim, int act_dim);

std::unique_ptr<Agent> make_agent(const AgentSpec& spec, const AgentShape& shape, std::uint64_t seed);

}  // namespace graybox::agents
