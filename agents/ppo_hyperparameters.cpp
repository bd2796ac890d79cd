#include "agents/ppo_hyperparameters.hpp"

#include <stdexcept>

#include "optim/schedule_config.hpp"

namespace graybox::agents {

void add_ppo_schema(core::ConfigSchema& s) {
  s.add_float("agent.learning_rate", 3e-4, "Adam learning rate (the start value when annealed)", 0.0, 1.0)
      .min_exclusive = true;
  s.add_bool("agent.anneal_lr", true, "anneal the learning rate linearly to 0 over total_steps (lr_schedule.type auto)");
  // The learning rate is agent.learning_rate times this schedule of env steps. "auto" is
  // CleanRL's: a linear schedule from 1 to 0 over the run when anneal_lr, else constant 1.
  optim::add_schedule_schema(s, "agent.lr_schedule.", "auto");
  s.add_int("agent.num_steps", 2048, "env steps per env in each rollout", 1, 1e7);
  s.add_float("agent.gamma", 0.99, "discount factor", 0.0, 1.0);
  s.add_float("agent.gae_lambda", 0.95, "lambda of generalised advantage estimation", 0.0, 1.0);
  s.add_int("agent.num_minibatches", 32, "minibatches per epoch over the rollout", 1, 1e6);
  s.add_int("agent.update_epochs", 10, "epochs over each rollout", 1, 1000);
  s.add_bool("agent.norm_adv", true, "normalise advantages per minibatch");
  s.add_float("agent.clip_coef", 0.2, "surrogate clipping coefficient", 0.0, 10.0);
  s.add_bool("agent.clip_vloss", true, "clip the value loss as the surrogate is clipped");
  s.add_float("agent.ent_coef", 0.0, "entropy bonus coefficient", 0.0, 10.0);
  s.add_float("agent.vf_coef", 0.5, "value loss coefficient", 0.0, 100.0);
  s.add_float("agent.max_grad_norm", 0.5, "global gradient norm clip", 0.0, 1e6).min_exclusive = true;
  s.add_float("agent.target_kl", 0.0, "stop an update's epochs when approx KL exceeds it (0: never)", 0.0, 1e6);
  s.add_float("agent.adam_eps", 1e-5, "Adam epsilon", 0.0, 1.0).min_exclusive = true;
  s.add_bool("agent.normalize_obs", true, "normalise observations with running statistics");
  s.add_bool("agent.normalize_reward", true, "scale rewards by the std of a running discounted return");
  s.add_float("agent.obs_clip", 10.0, "clip normalised observations to +-obs_clip", 0.0, 1e9).min_exclusive = true;
  s.add_float("agent.reward_clip", 10.0, "clip scaled rewards to +-reward_clip", 0.0, 1e9).min_exclusive = true;
  s.add_bool("agent.bootstrap_truncated", false,
             "bootstrap truncated episodes with V(final obs) (CleanRL: false, treats them as ends)");
  s.add_int_list("agent.hidden_sizes", "[64, 64]", "hidden layer widths of the actor and the critic (tanh)", 1, 65536);
  s.add_int("agent.update_threads", 1, "threads for the update: 2 runs the actor's and the critic's passes side by side (same results)", 1, 2);
  s.add_float("agent.init_log_std", 0.0, "initial state-independent log standard deviation", -20.0, 5.0);
}

const std::vector<std::string>& ppo_hyperparameter_names() {
  static const std::vector<std::string> names = {
      "learning_rate", "anneal_lr", "num_steps", "gamma", "gae_lambda", "num_minibatches",
      "update_epochs", "norm_adv", "clip_coef", "clip_vloss", "ent_coef", "vf_coef",
      "max_grad_norm", "target_kl", "adam_eps", "bootstrap_truncated"};
  return names;
}

void check_ppo_hyperparameters(const core::Hyperparameters& hp) {
  const auto require = [&](const char* name, bool ok, const char* rule) {
    if (!ok) throw std::invalid_argument(std::string("agent.") + name + " must be " + rule);
  };
  require("learning_rate", hp.get("learning_rate") > 0, "> 0");
  require("num_steps", hp.get_int("num_steps") >= 1, ">= 1");
  require("gamma", hp.get("gamma") >= 0 && hp.get("gamma") <= 1, "in [0, 1]");
  require("gae_lambda", hp.get("gae_lambda") >= 0 && hp.get("gae_lambda") <= 1, "in [0, 1]");
  require("num_minibatches", hp.get_int("num_minibatches") >= 1, ">= 1");
  require("update_epochs", hp.get_int("update_epochs") >= 1, ">= 1");
  require("clip_coef", hp.get("clip_coef") >= 0, ">= 0");
  require("max_grad_norm", hp.get("max_grad_norm") > 0, "> 0");
}

PpoNetworkConfig ppo_network_config(const core::Config& config) {
  PpoNetworkConfig net;
  net.hidden_sizes = config.get_int_list("agent.hidden_sizes");
  net.init_log_std = config.get_float("agent.init_log_std");
  net.update_threads = static_cast<int>(config.get_int("agent.update_threads"));
  return net;
}

}  // namespace graybox::agents
