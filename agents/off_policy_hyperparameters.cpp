#include "agents/off_policy_hyperparameters.hpp"

namespace graybox::agents {

void add_off_policy_schema(core::ConfigSchema& s) {
  s.begin_variant("agent.algo", {"sac", "td3"});
  s.add_int("agent.buffer_size", 1000000, "replay buffer capacity in transitions", 1, 1e9);
  s.add_float("agent.gamma", 0.99, "discount factor", 0.0, 1.0);
  s.add_float("agent.tau", 0.005, "target smoothing coefficient (Polyak)", 0.0, 1.0);
  s.add_int("agent.batch_size", 256, "transitions sampled from the buffer per update", 1, 1e6);
  s.add_int("agent.policy_frequency", 2, "actor updates are delayed to every this many steps", 1, 1e6);
  s.add_int_list("agent.hidden_sizes", "[256, 256]", "hidden layer widths of the actor and the critics (ReLU)", 1, 65536);
  s.add_int("agent.iteration_steps", 100, "vector steps per iteration: metric reports, checkpoints, controller decisions (CleanRL logs every 100)", 1, 1e7);
  s.add_bool("agent.autograd_update", false, "run the update through LibTorch's autograd, the slower reference of the hand-written passes (same results to float rounding)");
  s.add_bool("checkpoint.replay_buffer", true, "write the replay buffer into checkpoints (false: a resumed run starts with an empty buffer)");
  s.begin_variant("agent.algo", {"sac"});
  s.add_int("agent.learning_starts", 5000, "env steps of uniform random actions before learning", 0, 9.0e15);
  s.add_float("agent.policy_lr", 3e-4, "Adam learning rate of the actor", 0.0, 1.0).min_exclusive = true;
  s.add_float("agent.q_lr", 1e-3, "Adam learning rate of the critics and of alpha", 0.0, 1.0).min_exclusive = true;
  s.add_int("agent.target_network_frequency", 1, "target networks are updated every this many steps", 1, 1e6);
  s.add_float("agent.alpha", 0.2, "entropy coefficient (when autotune is off)", 0.0, 1e6);
  s.add_bool("agent.autotune", true, "tune alpha automatically towards the target entropy");
  s.add_float("agent.target_entropy_scale", 1.0, "target entropy = -target_entropy_scale x |A|", -1e6, 1e6);
  s.begin_variant("agent.algo", {"td3"});
  s.add_int("agent.learning_starts", 25000, "env steps of uniform random actions before learning", 0, 9.0e15);
  s.add_float("agent.learning_rate", 3e-4, "Adam learning rate of the actor and the critics", 0.0, 1.0).min_exclusive = true;
  s.add_float("agent.policy_noise", 0.2, "std of the target policy smoothing noise (x action scale)", 0.0, 1e6);
  s.add_float("agent.noise_clip", 0.5, "clip of the target policy smoothing noise", 0.0, 1e6);
  s.add_float("agent.exploration_noise", 0.1, "std of the Gaussian exploration noise (x action scale)", 0.0, 1e6);
  s.end_variant();
}

const std::vector<std::string>& sac_hyperparameter_names() {
  static const std::vector<std::string> names = {
      "gamma", "tau", "batch_size", "policy_frequency", "iteration_steps", "learning_starts", "policy_lr", "q_lr",
      "target_network_frequency", "alpha", "autotune", "target_entropy_scale"};
  return names;
}

const std::vector<std::string>& td3_hyperparameter_names() {
  static const std::vector<std::string> names = {
      "gamma", "tau", "batch_size", "policy_frequency", "iteration_steps", "learning_starts", "learning_rate",
      "policy_noise", "noise_clip", "exploration_noise"};
  return names;
}

OffPolicyConfig off_policy_config(const core::Config& config) {
  OffPolicyConfig c;
  c.hidden_sizes = config.get_int_list("agent.hidden_sizes");
  c.buffer_size = config.get_int("agent.buffer_size");
  c.checkpoint_buffer = config.get_bool("checkpoint.replay_buffer");
  c.autograd_update = config.get_bool("agent.autograd_update");
  return c;
}

}  // namespace graybox::agents
