#include "agents/td3.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "agents/torch_mlp.hpp"
#include "core/error.hpp"
#include "optim/optimizer.hpp"

namespace graybox::agents {

struct Td3Agent::Impl {
  int obs_dim, act_dim;
  torch::nn::Sequential actor{nullptr}, target_actor{nullptr};  // before tanh and scaling
  torch::nn::Sequential qf1{nullptr}, qf2{nullptr}, qf1_target{nullptr}, qf2_target{nullptr};
  torch::Tensor scale, bias, low, high;
  std::unique_ptr<optim::ControllableOptimizer> q_optimizer, actor_optimizer;
  std::int64_t actor_updates = 0;
  bool updated = false, reported = true;
  double qf1_values = 0, qf2_values = 0, qf1_loss = 0, qf2_loss = 0, actor_loss = 0;
  std::vector<float> noise;

  torch::Tensor act(torch::nn::Sequential& net, const torch::Tensor& obs) const {
    return torch::tanh(net->forward(obs)) * scale + bias;
  }
  torch::Tensor standard_normal(core::Rng& rng, long long batch) {
    noise.resize(static_cast<std::size_t>(batch * act_dim));
    for (auto& x : noise) x = static_cast<float>(rng.normal());
    return torch::from_blob(noise.data(), {batch, act_dim}, torch::kFloat32).clone();
  }
};

Td3Agent::Td3Agent(const AgentShape& shape, const OffPolicyConfig& config, std::uint64_t seed)
    : OffPolicyAgent(shape, config, seed), impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.obs_dim = shape.obs_dim;
  m.act_dim = shape.act_dim;
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
}

Td3Agent::~Td3Agent() = default;

void Td3Agent::check_hyperparameters(const core::Hyperparameters& hp) const {
  const auto require = [&](const char* name, bool ok, const char* rule) {
    if (!ok) throw std::invalid_argument(std::string("agent.") + name + " must be " + rule);
  };
  require("gamma", hp.get("gamma") >= 0 && hp.get("gamma") <= 1, "in [0, 1]");
  require("tau", hp.get("tau") >= 0 && hp.get("tau") <= 1, "in [0, 1]");
  require("batch_size", hp.get_int("batch_size") >= 1, ">= 1");
  require("learning_starts", hp.get_int("learning_starts") >= 0, ">= 0");
  require("learning_rate", hp.get("learning_rate") > 0, "> 0");
  require("policy_frequency", hp.get_int("policy_frequency") >= 1, ">= 1");
  require("policy_noise", hp.get("policy_noise") >= 0, ">= 0");
  require("noise_clip", hp.get("noise_clip") >= 0, ">= 0");
  require("exploration_noise", hp.get("exploration_noise") >= 0, ">= 0");
  require("iteration_steps", hp.get_int("iteration_steps") >= 1, ">= 1");
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
  torch::NoGradGuard no_grad;
  const torch::Tensor o = torch::from_blob(const_cast<double*>(obs), {n, m.obs_dim}, torch::kFloat64).to(torch::kFloat32);
  const torch::Tensor a = m.act(m.actor, o).to(torch::kFloat64).contiguous();
  std::copy_n(a.data_ptr<double>(), static_cast<std::size_t>(n) * m.act_dim, actions);
}

bool Td3Agent::update(const core::Hyperparameters& hp, const UpdateContext&) {
  auto& m = *impl_;
  const double gamma = hp.get("gamma"), tau = hp.get("tau");
  const int batch = static_cast<int>(hp.get_int("batch_size"));
  const double policy_noise = hp.get("policy_noise"), noise_clip = hp.get("noise_clip");
  m.q_optimizer->set_lr(hp.get("learning_rate"));
  m.actor_optimizer->set_lr(hp.get("learning_rate"));

  sample(batch);
  const torch::Tensor obs = rows(batch_obs_, m.obs_dim), next_obs = rows(batch_next_obs_, m.obs_dim);
  const torch::Tensor actions = rows(batch_actions_, m.act_dim);
  const torch::Tensor rewards = rows(batch_rewards_, 1).view(-1), dones = rows(batch_dones_, 1).view(-1);

  torch::Tensor next_q_value;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor clipped_noise = (m.standard_normal(rng_, batch) * policy_noise).clamp(-noise_clip, noise_clip) * m.scale;
    const torch::Tensor next_state_actions = torch::max(torch::min(m.act(m.target_actor, next_obs) + clipped_noise, m.high), m.low);
    const torch::Tensor next_in = torch::cat({next_obs, next_state_actions}, 1);
    const torch::Tensor min_qf_next_target = torch::min(m.qf1_target->forward(next_in), m.qf2_target->forward(next_in));
    next_q_value = rewards + (1.0 - dones) * gamma * min_qf_next_target.view(-1);
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
  m.qf1_values = qf1_a_values.mean().item<double>();
  m.qf2_values = qf2_a_values.mean().item<double>();
  m.qf1_loss = qf1_loss.item<double>();
  m.qf2_loss = qf2_loss.item<double>();

  if (vector_step() % hp.get_int("policy_frequency") == 0) {
    const torch::Tensor actor_loss = -m.qf1->forward(torch::cat({obs, m.act(m.actor, obs)}, 1)).mean();
    m.actor_optimizer->zero_grad();
    actor_loss.backward();
    m.actor_optimizer->step();
    m.actor_loss = actor_loss.item<double>();
    ++m.actor_updates;
    soft_update(*m.actor, *m.target_actor, tau);
    soft_update(*m.qf1, *m.qf1_target, tau);
    soft_update(*m.qf2, *m.qf2_target, tau);
  }
  m.updated = true;
  m.reported = false;
  return std::isfinite(m.qf1_loss) && std::isfinite(m.qf2_loss) && std::isfinite(m.actor_loss);
}

std::string Td3Agent::divergence() const {
  const auto& m = *impl_;
  return "qf1 loss " + std::to_string(m.qf1_loss) + ", qf2 loss " + std::to_string(m.qf2_loss) + ", actor loss " +
         std::to_string(m.actor_loss);
}

void Td3Agent::report(std::int64_t step, core::MetricSink& sink) {
  auto& m = *impl_;
  if (m.reported || !m.updated) return;
  m.reported = true;
  sink.metric(step, "losses/qf1_values", m.qf1_values);
  sink.metric(step, "losses/qf2_values", m.qf2_values);
  sink.metric(step, "losses/qf1_loss", m.qf1_loss);
  sink.metric(step, "losses/qf2_loss", m.qf2_loss);
  sink.metric(step, "losses/qf_loss", (m.qf1_loss + m.qf2_loss) / 2.0);
  sink.metric(step, "losses/actor_loss", m.actor_loss);
}

double Td3Agent::parameter_checksum() const {
  const auto& m = *impl_;
  return abs_sum(*m.actor) + abs_sum(*m.qf1) + abs_sum(*m.qf2);
}

std::int64_t Td3Agent::actor_updates() const { return impl_->actor_updates; }

std::vector<float> Td3Agent::parameters_of(const std::string& network) const {
  const auto& m = *impl_;
  if (network == "actor") return flat_parameters(*m.actor);
  if (network == "target_actor") return flat_parameters(*m.target_actor);
  if (network == "qf1") return flat_parameters(*m.qf1);
  if (network == "qf2") return flat_parameters(*m.qf2);
  if (network == "qf1_target") return flat_parameters(*m.qf1_target);
  if (network == "qf2_target") return flat_parameters(*m.qf2_target);
  throw std::invalid_argument("no network " + network);
}

void Td3Agent::save_learner(const std::string& dir) const {
  const auto& m = *impl_;
  torch::serialize::OutputArchive root, actor, target_actor, qf1, qf2, qf1_target, qf2_target, q_opt, actor_opt;
  m.actor->save(actor);
  m.target_actor->save(target_actor);
  m.qf1->save(qf1);
  m.qf2->save(qf2);
  m.qf1_target->save(qf1_target);
  m.qf2_target->save(qf2_target);
  m.q_optimizer->save(q_opt);
  m.actor_optimizer->save(actor_opt);
  root.write("actor", actor);
  root.write("target_actor", target_actor);
  root.write("qf1", qf1);
  root.write("qf2", qf2);
  root.write("qf1_target", qf1_target);
  root.write("qf2_target", qf2_target);
  root.write("q_optimizer", q_opt);
  root.write("actor_optimizer", actor_opt);
  root.write("actor_updates", torch::tensor(static_cast<double>(m.actor_updates), torch::kFloat64));
  root.save_to(dir + "/agent.pt");
}

void Td3Agent::load_learner(const std::string& dir) {
  auto& m = *impl_;
  const std::string path = dir + "/agent.pt";
  try {
    torch::serialize::InputArchive root, actor, target_actor, qf1, qf2, qf1_target, qf2_target, q_opt, actor_opt;
    root.load_from(path);
    root.read("actor", actor);
    root.read("target_actor", target_actor);
    root.read("qf1", qf1);
    root.read("qf2", qf2);
    root.read("qf1_target", qf1_target);
    root.read("qf2_target", qf2_target);
    root.read("q_optimizer", q_opt);
    root.read("actor_optimizer", actor_opt);
    m.actor->load(actor);
    m.target_actor->load(target_actor);
    m.qf1->load(qf1);
    m.qf2->load(qf2);
    m.qf1_target->load(qf1_target);
    m.qf2_target->load(qf2_target);
    m.q_optimizer->load(q_opt);
    m.actor_optimizer->load(actor_opt);
    torch::Tensor updates;
    root.read("actor_updates", updates);
    m.actor_updates = static_cast<std::int64_t>(updates.item<double>());
  } catch (const c10::Error& e) {
    throw core::UserError(path + ": not a valid TD3 checkpoint (" + e.what_without_backtrace() + ")");
  }
}

void Td3Agent::copy_learner(const OffPolicyAgent& other) {
  const auto* o = dynamic_cast<const Td3Agent*>(&other);
  if (!o) throw std::invalid_argument("copy_state_from: the other agent is not a TD3 agent");
  auto& m = *impl_;
  const auto& s = *o->impl_;
  copy_parameters(*s.actor, *m.actor);
  copy_parameters(*s.target_actor, *m.target_actor);
  copy_parameters(*s.qf1, *m.qf1);
  copy_parameters(*s.qf2, *m.qf2);
  copy_parameters(*s.qf1_target, *m.qf1_target);
  copy_parameters(*s.qf2_target, *m.qf2_target);
  m.q_optimizer->copy_state_from(*s.q_optimizer);
  m.actor_optimizer->copy_state_from(*s.actor_optimizer);
  m.actor_updates = s.actor_updates;
  m.updated = s.updated;
  m.reported = s.reported;
  m.qf1_values = s.qf1_values, m.qf2_values = s.qf2_values, m.qf1_loss = s.qf1_loss, m.qf2_loss = s.qf2_loss;
  m.actor_loss = s.actor_loss;
}

}  // namespace graybox::agents
