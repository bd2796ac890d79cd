#include "agents/off_policy.hpp"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

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

void OffPolicyAgent::save(const std::string& dir, nlohmann::json& state) const {
  save_learner(dir);
  if (config_.checkpoint_buffer) buffer_.save(dir + "/replay_buffer.bin");
  state["replay_buffer"] = config_.checkpoint_buffer;
  state["vector_steps"] = vector_steps_;
  state["rng"] = rng_.state();
  state["last_obs"] = obs_;
  state["last_actions"] = actions_;
}

void OffPolicyAgent::load(const std::string& dir, const nlohmann::json& state) {
  load_learner(dir);
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
  if (!o) throw std::invalid_argument("copy_state_from: the other agent is not an off-policy agent");
  if (o == this) return;
  copy_learner(*o);
  buffer_ = o->buffer_;
  vector_steps_ = o->vector_steps_;
  rng_ = o->rng_;
  obs_ = o->obs_;
  actions_ = o->actions_;
}

}  // namespace graybox::agents
