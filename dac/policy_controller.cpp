#include "dac/policy_controller.hpp"

#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.hpp"
#include "dac/control_config.hpp"

namespace graybox::dac {

LoadedPolicy load_control_policy(const std::string& path) {
  LoadedPolicy loaded;
  loaded.policy = std::make_unique<agents::PpoPolicy>(agents::PpoPolicy::load(path));
  try {
    const nlohmann::json meta = nlohmann::json::parse(loaded.policy->meta());
    loaded.options = control_options_from_json(meta.at("control"));
  } catch (const std::exception& e) {
    throw core::UserError(path + ": not a policy of graybox control train (" + e.what() + ")");
  }
  envs::EnvSpec spec;
  action_space(loaded.options, spec);
  if (loaded.policy->obs_dim() != ControlLoop::kObsDim || loaded.policy->act_dim() != spec.act_dim) {
    throw core::UserError(path + ": the policy takes " + std::to_string(loaded.policy->obs_dim()) + " observations and " +
                          std::to_string(loaded.policy->act_dim()) + " actions, not the controller's " +
                          std::to_string(ControlLoop::kObsDim) + " and " + std::to_string(spec.act_dim));
  }
  return loaded;
}

PolicyController::PolicyController(LoadedPolicy loaded, tasks::SupervisedTask& task, std::int64_t budget)
    : policy_(std::move(loaded.policy)), options_(loaded.options), loop_(task, options_, budget) {}

void PolicyController::next_action(double* action) {
  std::vector<double> obs(ControlLoop::kObsDim);
  loop_.write_obs(obs.data());
  policy_->act(obs.data(), action);
}

envs::StepResult PolicyController::step(core::MetricSink& sink) {
  double action[2] = {0.0, 0.0};
  next_action(action);
  return loop_.step(action, sink);
}

}  // namespace graybox::dac
