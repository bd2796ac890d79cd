#include "agents/td3.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "agents/learner_parts.hpp"
#include "agents/mlp_pass.hpp"
#include "agents/torch_mlp.hpp"
#include "agents/twin_critic_pass.hpp"
#include "optim/optimizer.hpp"

namespace graybox::agents {

struct Td3Agent::Impl {
  int obs_dim, act_dim;
  torch::nn::Sequential actor{nullptr}, target_actor{nullptr};  // before tanh and scaling
  torch::nn::Sequential qf1{nullptr}, qf2{nullptr}, qf1_target{nullptr}, qf2_target{nullptr};
  torch::Tensor scale, bias, low, high;
  std::unique_ptr<optim::ControllableOptimizer> q_optimizer, actor_optimizer;
  MlpInference acting;  // the actor's float copy
  std::vector<float> scale_f, bias_f, low_f, high_f, obs_f, out_f;
  // The hand-written update's passes over the same parameters, and its buffers.
  std::unique_ptr<MlpPass> actor_pass, target_actor_pass;
  std::unique_ptr<TwinCriticPass> critics;
  std::vector<float> next_actions, target, tanh_out, pi, dq1, d_raw;

  torch::Tensor act(torch::nn::Sequential& net, const torch::Tensor& obs) const {
    return torch::tanh(net->forward(obs)) * scale + bias;
  }
  // Target policy smoothing's noise: batch x act_dim standard normal draws.
  torch::Tensor noise(std::vector<float>& draws) const { return rows(draws, act_dim).clone(); }
};

Td3Agent::Td3Agent(const AgentShape& shape, const OffPolicyConfig& config, std::uint64_t seed)
    : OffPolicyAgent(shape, config, seed), impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.obs_dim = shape.obs_dim;
  m.act_dim = shape.act_dim;
  m.obs_f.resize(static_cast<std::size_t>(shape.obs_dim));  // the acting copy's scratch rows
  m.out_f.resize(static_cast<std::size_t>(shape.act_dim));
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(core::derive_seed(seed, core::Stream::kInit));
  m.actor = relu_mlp(shape.obs_dim, config.hidden_sizes, shape.act_dim, generator);
  m.qf1 = relu_mlp(shape.obs_dim + shape.act_dim, config.hidden_sizes, 1, generator);
  m.qf2 = relu_mlp(shape.obs_dim + shape.act_dim, config.hidden_sizes, 1, generator);
  m.target_actor = relu_mlp(shape.obs_dim, config.hidden_sizes, shape.act_dim, generator);
  m.qf1_target = relu_mlp(shape.obs_dim + shape.act_dim, config.hidden_sizes, 1, generator);
  m.qf2_target = relu_mlp(shape.obs_dim + shape.act_dim, config.hidden_sizes, 1, generator);
  copy_parameters(*m.actor, *m.target_actor);
  copy_parameters(*m.qf1, *m.qf1_target);
  copy_parameters(*m.qf2, *m.qf2_target);
  std::vector<float> scale(shape.act_dim), bias(shape.act_dim), low(shape.act_dim), high(shape.act_dim);
  for (int j = 0; j < shape.act_dim; ++j) {
    scale[j] = static_cast<float>((shape.act_high[j] - shape.act_low[j]) / 2.0);
    bias[j] = static_cast<float>((shape.act_high[j] + shape.act_low[j]) / 2.0);
    low[j] = static_cast<float>(shape.act_low[j]);
    high[j] = static_cast<float>(shape.act_high[j]);
  }
  m.scale_f = scale;
  m.bias_f = bias;
  m.low_f = low;
  m.high_f = high;
  m.scale = torch::tensor(scale).view({1, shape.act_dim});
  m.bias = torch::tensor(bias).view({1, shape.act_dim});
  m.low = torch::tensor(low).view({1, shape.act_dim});
  m.high = torch::tensor(high).view({1, shape.act_dim});
  std::vector<torch::Tensor> q_params = m.qf1->parameters();
  for (const auto& p : m.qf2->parameters()) q_params.push_back(p);
  optim::OptimizerSettings adam;  // PyTorch's Adam (eps 1e-8); the rate is set at every update
  adam.lr = 3e-4;
  m.q_optimizer = std::make_unique<optim::ControllableOptimizer>(optim::OptimizerKind::kAdam, q_params, adam);
  m.actor_optimizer = std::make_unique<optim::ControllableOptimizer>(optim::OptimizerKind::kAdam, m.actor->parameters(), adam);
  m.actor_pass = std::make_unique<MlpPass>(m.actor);
  m.target_actor_pass = std::make_unique<MlpPass>(m.target_actor);
  m.critics = std::make_unique<TwinCriticPass>(m.qf1, m.qf2, m.qf1_target, m.qf2_target, shape.obs_dim, shape.act_dim);
}

Td3Agent::~Td3Agent() = default;

void Td3Agent::check_hyperparameters(const core::Hyperparameters& hp) const {
  check_common_hyperparameters(hp);
  require("learning_rate", hp.get("learning_rate") > 0, "> 0");
  require("policy_noise", hp.get("policy_noise") >= 0, ">= 0");
  require("noise_clip", hp.get("noise_clip") >= 0, ">= 0");
  require("exploration_noise", hp.get("exploration_noise") >= 0, ">= 0");
}

void Td3Agent::explore(const double* obs, int n, const core::Hyperparameters& hp, double* actions) {
  auto& m = *impl_;
  act_deterministic(obs, n, actions);
  // CleanRL: actions + N(0, action_scale * exploration_noise), clipped to the bounds.
  const double sigma = hp.get("exploration_noise");
  for (int e = 0; e < n; ++e) {
    for (int j = 0; j < m.act_dim; ++j) {
      double& a = actions[static_cast<std::size_t>(e) * m.act_dim + j];
      const double half = (shape_.act_high[j] - shape_.act_low[j]) / 2.0;
      a = std::clamp(a + rng_.normal() * half * sigma, shape_.act_low[j], shape_.act_high[j]);
    }
  }
}

void Td3Agent::act_deterministic(const double* obs, int n, double* actions) {
  auto& m = *impl_;
  if (acting_copy_stale_) {
    m.acting.set_layers(linear_layers(*m.actor), MlpActivation::kRelu);
    acting_copy_stale_ = false;
  }
  for (int e = 0; e < n; ++e) {
    const double* o = obs + static_cast<std::size_t>(e) * m.obs_dim;
    for (int j = 0; j < m.obs_dim; ++j) m.obs_f[j] = static_cast<float>(o[j]);
    m.acting.forward(m.obs_f.data(), m.out_f.data());
    for (int j = 0; j < m.act_dim; ++j) {
      actions[static_cast<std::size_t>(e) * m.act_dim + j] = std::tanh(m.out_f[j]) * m.scale_f[j] + m.bias_f[j];
    }
  }
}

void Td3Agent::act_deterministic_reference(const double* obs, int n, double* actions) {
  auto& m = *impl_;
  torch::NoGradGuard no_grad;
  const torch::Tensor o = torch::from_blob(const_cast<double*>(obs), {n, m.obs_dim}, torch::kFloat64).to(torch::kFloat32);
  const torch::Tensor a = m.act(m.actor, o).to(torch::kFloat64).contiguous();
  std::copy_n(a.data_ptr<double>(), static_cast<std::size_t>(n) * m.act_dim, actions);
}

struct Td3Agent::UpdateStep {
  double gamma, policy_noise, noise_clip;
  int batch;
  bool actor_due;
};

bool Td3Agent::update(const core::Hyperparameters& hp, const UpdateContext&) {
  auto& m = *impl_;
  UpdateStep step;
  step.gamma = hp.get("gamma");
  step.batch = static_cast<int>(hp.get_int("batch_size"));
  step.policy_noise = hp.get("policy_noise");
  step.noise_clip = hp.get("noise_clip");
  step.actor_due = vector_step() % hp.get_int("policy_frequency") == 0;
  const double tau = hp.get("tau");
  m.q_optimizer->set_lr(hp.get("learning_rate"));
  m.actor_optimizer->set_lr(hp.get("learning_rate"));

  sample(step.batch);
  if (config_.autograd_update) {
    update_autograd(step);
  } else {
    update_by_hand(step);
  }
  if (step.actor_due) {
    ++stats_.actor_updates;
    acting_copy_stale_ = true;
    soft_update(*m.actor, *m.target_actor, tau);
    soft_update(*m.qf1, *m.qf1_target, tau);
    soft_update(*m.qf2, *m.qf2_target, tau);
  }
  stats_.updated = true;
  stats_.reported = false;
  return std::isfinite(stats_.qf1_loss) && std::isfinite(stats_.qf2_loss) && std::isfinite(stats_.actor_loss);
}

// CleanRL's update as written there, through LibTorch's autograd: the reference of update_by_hand.
void Td3Agent::update_autograd(const UpdateStep& step) {
  auto& m = *impl_;
  const int batch = step.batch;
  const torch::Tensor obs = rows(batch_obs_, m.obs_dim), next_obs = rows(batch_next_obs_, m.obs_dim);
  const torch::Tensor actions = rows(batch_actions_, m.act_dim);
  const torch::Tensor rewards = rows(batch_rewards_, 1).view(-1), dones = rows(batch_dones_, 1).view(-1);

  torch::Tensor next_q_value;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor clipped_noise =
        (m.noise(normal_draws(static_cast<std::size_t>(batch) * m.act_dim)) * step.policy_noise)
            .clamp(-step.noise_clip, step.noise_clip) * m.scale;
    const torch::Tensor next_state_actions = torch::max(torch::min(m.act(m.target_actor, next_obs) + clipped_noise, m.high), m.low);
    const torch::Tensor next_in = torch::cat({next_obs, next_state_actions}, 1);
    const torch::Tensor min_qf_next_target = torch::min(m.qf1_target->forward(next_in), m.qf2_target->forward(next_in));
    next_q_value = rewards + (1.0 - dones) * step.gamma * min_qf_next_target.view(-1);
  }
  const torch::Tensor in = torch::cat({obs, actions}, 1);
  const torch::Tensor qf1_a_values = m.qf1->forward(in).view(-1);
  const torch::Tensor qf2_a_values = m.qf2->forward(in).view(-1);
  const torch::Tensor qf1_loss = torch::mse_loss(qf1_a_values, next_q_value);
  const torch::Tensor qf2_loss = torch::mse_loss(qf2_a_values, next_q_value);
  const torch::Tensor qf_loss = qf1_loss + qf2_loss;
  m.q_optimizer->zero_grad();
  qf_loss.backward();
  m.q_optimizer->step();
  stats_.qf1_values = qf1_a_values.mean().item<double>();
  stats_.qf2_values = qf2_a_values.mean().item<double>();
  stats_.qf1_loss = qf1_loss.item<double>();
  stats_.qf2_loss = qf2_loss.item<double>();

  if (!step.actor_due) return;
  const torch::Tensor actor_loss = -m.qf1->forward(torch::cat({obs, m.act(m.actor, obs)}, 1)).mean();
  m.actor_optimizer->zero_grad();
  actor_loss.backward();
  m.actor_optimizer->step();
  stats_.actor_loss = actor_loss.item<double>();
}

// The same update with every network through MlpPass and every loss's gradient written out:
// the same noise draws, the same arithmetic up to float rounding; the critics get no gradient
// from the actor's loss (autograd computes one and discards it).
void Td3Agent::update_by_hand(const UpdateStep& step) {
  auto& m = *impl_;
  const int batch = step.batch;
  const std::size_t n = static_cast<std::size_t>(batch) * m.act_dim;
  const float policy_noise = static_cast<float>(step.policy_noise), noise_clip = static_cast<float>(step.noise_clip);
  const float gamma = static_cast<float>(step.gamma);

  // Target policy smoothing: the target actor's action plus clipped noise, within the bounds.
  const std::vector<float>& eps = normal_draws(n);
  const float* raw_next = m.target_actor_pass->forward(batch_next_obs_.data(), batch);
  m.next_actions.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int j = static_cast<int>(i % static_cast<std::size_t>(m.act_dim));
    const float noise = std::clamp(eps[i] * policy_noise, -noise_clip, noise_clip) * m.scale_f[j];
    const float a = std::tanh(raw_next[i]) * m.scale_f[j] + m.bias_f[j] + noise;
    m.next_actions[i] = std::max(std::min(a, m.high_f[j]), m.low_f[j]);
  }
  const float* minimum = m.critics->target_minimum(batch_next_obs_.data(), m.next_actions.data(), batch);
  m.target.resize(static_cast<std::size_t>(batch));
  for (int r = 0; r < batch; ++r) m.target[r] = batch_rewards_[r] + (1.0f - batch_dones_[r]) * gamma * minimum[r];
  record_critics(m.critics->fit(batch_obs_.data(), batch_actions_.data(), m.target.data(), batch));
  m.q_optimizer->fused_step();

  if (!step.actor_due) return;
  // actor_loss = -mean(Q1(s, tanh(actor(s)) · scale + bias)).
  const float* raw = m.actor_pass->forward(batch_obs_.data(), batch);
  m.tanh_out.resize(n);
  m.pi.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int j = static_cast<int>(i % static_cast<std::size_t>(m.act_dim));
    m.tanh_out[i] = std::tanh(raw[i]);
    m.pi[i] = m.tanh_out[i] * m.scale_f[j] + m.bias_f[j];
  }
  const float* q1 = m.critics->values(batch_obs_.data(), m.pi.data(), batch, /*both=*/false).q1;
  double loss = 0.0;
  for (int r = 0; r < batch; ++r) loss -= q1[r];
  m.dq1.assign(static_cast<std::size_t>(batch), -1.0f / static_cast<float>(batch));
  const float* d_pi = m.critics->action_gradient(m.dq1.data(), nullptr);
  m.d_raw.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int j = static_cast<int>(i % static_cast<std::size_t>(m.act_dim));
    m.d_raw[i] = d_pi[i] * m.scale_f[j] * (1.0f - m.tanh_out[i] * m.tanh_out[i]);
  }
  m.actor_pass->backward(m.d_raw.data(), /*weight_grads=*/true, /*input_grad=*/false);
  m.actor_optimizer->fused_step();
  stats_.actor_loss = loss / batch;
}

LearnerParts Td3Agent::parts() const {
  auto& m = *impl_;
  return {{{"actor", m.actor.get()},
           {"target_actor", m.target_actor.get()},
           {"qf1", m.qf1.get()},
           {"qf2", m.qf2.get()},
           {"qf1_target", m.qf1_target.get()},
           {"qf2_target", m.qf2_target.get()}},
          {{"q_optimizer", m.q_optimizer.get()}, {"actor_optimizer", m.actor_optimizer.get()}},
          {}};
}

}  // namespace graybox::agents
