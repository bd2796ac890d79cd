#include "agents/agent_config.hpp"

#include <algorithm>
#include <stdexcept>

#include "agents/off_policy_hyperparameters.hpp"
#include "agents/ppo_hyperparameters.hpp"
#include "agents/sac.hpp"
#include "agents/td3.hpp"

namespace graybox::agents {
namespace {

const std::vector<std::string>& algorithms() {
  static const std::vector<std::string> names = {"ppo", "sac", "td3"};
  return names;
}

}  // namespace

void add_agent_schema(core::ConfigSchema& s) {
  s.add_string("agent.algo", "ppo", "the learning algorithm; it selects which agent.* keys exist", algorithms());
  s.begin_variant("agent.algo", {"ppo"});
  add_ppo_schema(s);
  s.end_variant();
  add_off_policy_schema(s);
}

AgentSpec agent_spec(const core::Config& config) {
  AgentSpec spec;
  spec.algo = config.get_string("agent.algo");
  spec.hidden_sizes = config.get_int_list("agent.hidden_sizes");
  if (spec.algo == "ppo") spec.ppo = ppo_agent_config(config);
  if (spec.algo != "ppo") spec.off_policy = off_policy_config(config);
  return spec;
}

const std::vector<std::string>& hyperparameter_names(const std::string& algo) {
  if (algo == "ppo") return ppo_hyperparameter_names();
  if (algo == "sac") return sac_hyperparameter_names();
  if (algo == "td3") return td3_hyperparameter_names();
  throw std::invalid_argument("no agent.algo " + algo);
}

core::Hyperparameters agent_hyperparameters(const core::Config& config) {
  core::Hyperparameters hp;
  for (const auto& name : hyperparameter_names(config.get_string("agent.algo"))) {
    const std::string key = "agent." + name;
    switch (config.schema().find(key)->type) {
      case core::FieldType::kInt: hp.set(name, static_cast<double>(config.get_int(key))); break;
      case core::FieldType::kBool: hp.set(name, config.get_bool(key) ? 1.0 : 0.0); break;
      default: hp.set(name, config.get_float(key)); break;
    }
  }
  return hp;
}

bool is_hyperparameter(const std::string& name) {
  return std::any_of(algorithms().begin(), algorithms().end(), [&](const std::string& algo) {
    const auto& names = hyperparameter_names(algo);
    return std::find(names.begin(), names.end(), name) != names.end();
  });
}

std::string iteration_key(const std::string& algo) { return algo == "ppo" ? "agent.num_steps" : "agent.iteration_steps"; }

std::vector<MlpShape> mlp_shapes(const AgentSpec& spec, int obs_dim, int act_dim) {
  if (spec.algo == "ppo") return {{obs_dim, act_dim}, {obs_dim, 1}};  // actor, critic
  const MlpShape critic{obs_dim + act_dim, 1};
  // SAC: an actor with mean and log-std heads; TD3: an actor and its target. Twin critics, twin targets.
  if (spec.algo == "sac") return {{obs_dim, 2 * act_dim}, critic, critic, critic, critic};
  if (spec.algo == "td3") return {{obs_dim, act_dim}, {obs_dim, act_dim}, critic, critic, critic, critic};
  throw std::invalid_argument("no agent.algo " + spec.algo);
}

std::unique_ptr<Agent> make_agent(const AgentSpec& spec, const AgentShape& shape, std::uint64_t seed) {
  if (spec.algo == "ppo") return std::make_unique<PpoAgent>(shape, spec.ppo, seed);
  if (spec.algo == "sac") return std::make_unique<SacAgent>(shape, spec.off_policy, seed);
  if (spec.algo == "td3") return std::make_unique<Td3Agent>(shape, spec.off_policy, seed);
  throw std::invalid_argument("no agent.algo " + spec.algo);
}

}  // namespace graybox::agents
