#include "agents/off_policy.hpp"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <typeinfo>

#include "agents/learner_parts.hpp"
#include "agents/torch_mlp.hpp"

namespace graybox::agents {

OffPolicyAgent::OffPolicyAgent(const AgentShape& shape, const OffPolicyConfig& config, std::uint64_t seed)
    : shape_(shape), config_(config), buffer_(config.buffer_size, shape.obs_dim, shape.act_dim) {
  rng_.seed(core::derive_seed(seed, core::Stream::kAgent));
}

std::int64_t OffPolicyAgent::iteration_steps(const core::Hyperparameters& hp) const {
  return hp.get_int("iteration_steps");
}

void OffPolicyAgent::begin(const double*, int) {}

void OffPolicyAgent::act(const double* obs, int n, const core::Hyperparameters& hp, double* actions) {
  const std::size_t obs_size = static_cast<std::size_t>(n) * shape_.obs_dim;
  const std::size_t act_size = static_cast<std::size_t>(n) * shape_.act_dim;
  obs_.assign(obs, obs + obs_size);
  if (vector_steps_ < hp.get_int("learning_starts")) {
    // CleanRL: envs.action_space.sample(), uniform within the bounds.
    for (int e = 0; e < n; ++e) {
      for (int j = 0; j < shape_.act_dim; ++j) {
        actions[static_cast<std::size_t>(e) * shape_.act_dim + j] = rng_.uniform(shape_.act_low[j], shape_.act_high[j]);
      }
    }
  } else {
    explore(obs, n, hp, actions);
  }
  actions_.assign(actions, actions + act_size);
}

void OffPolicyAgent::observe(const Transition& t, const core::Hyperparameters&) {
  buffer_.add(t.n, obs_.data(), actions_.data(), t.rewards, t.obs, t.final_obs, t.terminated, t.truncated);
  ++vector_steps_;
}

bool OffPolicyAgent::update_due(const core::Hyperparameters& hp) const {
  // CleanRL: global_step > learning_starts. A buffer emptied by a resume without its file
  // refills to one batch first.
  return vector_step() > hp.get_int("learning_starts") && buffer_.size() >= hp.get_int("batch_size");
}

void OffPolicyAgent::reseed(std::uint64_t seed) { rng_.seed(core::derive_seed(seed, core::Stream::kAgent)); }

void OffPolicyAgent::sample(int batch) {
  buffer_.sample_indices(batch, rng_, indices_);
  const auto b = static_cast<std::size_t>(batch);
  batch_obs_.resize(b * shape_.obs_dim);
  batch_next_obs_.resize(b * shape_.obs_dim);
  batch_actions_.resize(b * shape_.act_dim);
  batch_rewards_.resize(b);
  batch_dones_.resize(b);
  buffer_.gather(indices_, batch_obs_.data(), batch_actions_.data(), batch_rewards_.data(), batch_next_obs_.data(),
                 batch_dones_.data());
}

void OffPolicyAgent::require(const char* name, bool ok, const char* rule) {
  if (!ok) throw std::invalid_argument(std::string("agent.") + name + " must be " + rule);
}

void OffPolicyAgent::check_common_hyperparameters(const core::Hyperparameters& hp) const {
  require("gamma", hp.get("gamma") >= 0 && hp.get("gamma") <= 1, "in [0, 1]");
  require("tau", hp.get("tau") >= 0 && hp.get("tau") <= 1, "in [0, 1]");
  require("batch_size", hp.get_int("batch_size") >= 1, ">= 1");
  require("learning_starts", hp.get_int("learning_starts") >= 0, ">= 0");
  require("policy_frequency", hp.get_int("policy_frequency") >= 1, ">= 1");
  require("iteration_steps", hp.get_int("iteration_steps") >= 1, ">= 1");
}

std::vector<float>& OffPolicyAgent::normal_draws(std::size_t count) {
  draws_.resize(count);
  for (auto& x : draws_) x = static_cast<float>(rng_.normal());
  return draws_;
}

std::string OffPolicyAgent::divergence() const {
  return "qf1 loss " + std::to_string(stats_.qf1_loss) + ", qf2 loss " + std::to_string(stats_.qf2_loss) +
         ", actor loss " + std::to_string(stats_.actor_loss);
}

void OffPolicyAgent::report(std::int64_t step, core::MetricSink& sink) {
  if (stats_.reported || !stats_.updated) return;
  stats_.reported = true;
  sink.metric(step, "losses/qf1_values", stats_.qf1_values);
  sink.metric(step, "losses/qf2_values", stats_.qf2_values);
  sink.metric(step, "losses/qf1_loss", stats_.qf1_loss);
  sink.metric(step, "losses/qf2_loss", stats_.qf2_loss);
  sink.metric(step, "losses/qf_loss", (stats_.qf1_loss + stats_.qf2_loss) / 2.0);
  sink.metric(step, "losses/actor_loss", stats_.actor_loss);
  report_more(step, sink);
}

double OffPolicyAgent::parameter_checksum() const {
  const LearnerParts p = parts();
  double sum = 0;
  for (const auto& [name, network] : p.networks) {
    if (std::string(name).find("target") == std::string::npos) sum += abs_sum(*network);
  }
  for (const auto& [name, tensor] : p.tensors) sum += tensor->abs().sum().item<double>();
  return sum;
}

std::vector<float> OffPolicyAgent::parameters_of(const std::string& network) const {
  for (const auto& [name, module] : parts().networks) {
    if (network == name) return flat_parameters(*module);
  }
  throw std::invalid_argument("no network " + network);
}

void OffPolicyAgent::save(const std::string& dir, nlohmann::json& state) const {
  save_parts(parts(), stats_.actor_updates, dir + "/agent.pt");
  if (config_.checkpoint_buffer) buffer_.save(dir + "/replay_buffer.bin");
  state["replay_buffer"] = config_.checkpoint_buffer;
  state["vector_steps"] = vector_steps_;
  state["rng"] = rng_.state();
  state["last_obs"] = obs_;
  state["last_actions"] = actions_;
}

void OffPolicyAgent::load(const std::string& dir, const nlohmann::json& state) {
  load_parts(parts(), stats_.actor_updates, dir + "/agent.pt", algorithm());
  acting_copy_stale_ = true;
  vector_steps_ = state.at("vector_steps").get<std::int64_t>();
  rng_.set_state(state.at("rng").get<std::string>());
  obs_ = state.at("last_obs").get<std::vector<double>>();
  actions_ = state.at("last_actions").get<std::vector<double>>();
  const std::string file = dir + "/replay_buffer.bin";
  if (state.at("replay_buffer").get<bool>() && std::filesystem::exists(file)) {
    buffer_.load(file);
  } else {
    buffer_.clear();
    std::fprintf(stderr, "note: %s holds no replay buffer (checkpoint.replay_buffer: false); training resumes with an "
                 "empty buffer\n", dir.c_str());
  }
}

void OffPolicyAgent::copy_state_from(const Agent& other) {
  const auto* o = dynamic_cast<const OffPolicyAgent*>(&other);
  if (!o || typeid(*o) != typeid(*this)) {
    throw std::invalid_argument(std::string("copy_state_from: the other agent is not a ") + algorithm() + " agent");
  }
  if (o == this) return;
  copy_parts(o->parts(), parts());
  acting_copy_stale_ = true;
  stats_ = o->stats_;
  buffer_ = o->buffer_;
  vector_steps_ = o->vector_steps_;
  rng_ = o->rng_;
  obs_ = o->obs_;
  actions_ = o->actions_;
}

}  // namespace graybox::agents
