#include "agents/sac.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "agents/learner_parts.hpp"
#include "agents/mlp_pass.hpp"
#include "agents/torch_mlp.hpp"
#include "agents/twin_critic_pass.hpp"
#include "core/normal.hpp"
#include "optim/optimizer.hpp"

namespace graybox::agents {
namespace {

constexpr double kLogStdMin = -5.0, kLogStdMax = 2.0;

optim::OptimizerSettings adam(double lr) {
  optim::OptimizerSettings s;
  s.lr = lr;  // PyTorch's Adam otherwise (eps 1e-8); the rate is set at every update
  return s;
}

}  // namespace

struct SacAgent::Impl {
  int obs_dim, act_dim;
  torch::nn::Sequential trunk{nullptr}, fc_mean{nullptr}, fc_logstd{nullptr};
  torch::nn::ModuleList actor{nullptr};  // trunk and heads, for save, copy and the optimizer
  torch::nn::Sequential qf1{nullptr}, qf2{nullptr}, qf1_target{nullptr}, qf2_target{nullptr};
  torch::Tensor log_alpha, scale, bias;
  std::unique_ptr<optim::ControllableOptimizer> q_optimizer, actor_optimizer, a_optimizer;
  bool autotune = true;
  // The actor's float copy: the trunk's layers, then one layer of both heads (the mean's
  // act_dim rows, then the log-std's).
  MlpInference acting;
  std::vector<float> scale_f, bias_f, obs_f, out_f;

  void refresh_acting() {
    std::vector<MlpInference::Layer> layers = linear_layers(*trunk);
    MlpInference::Layer heads = linear_layers(*fc_mean).at(0);
    const MlpInference::Layer log_std_head = linear_layers(*fc_logstd).at(0);
    heads.out += log_std_head.out;
    heads.weight.insert(heads.weight.end(), log_std_head.weight.begin(), log_std_head.weight.end());
    heads.bias.insert(heads.bias.end(), log_std_head.bias.begin(), log_std_head.bias.end());
    layers.push_back(std::move(heads));
    acting.set_layers(std::move(layers), MlpActivation::kRelu);
  }

  // get_action for one observation through the float copy: the squashed mean, or with eps
  // (act_dim standard normal draws) the sampled action.
  void act_one(const double* obs, const float* eps, double* action) {
    for (int j = 0; j < obs_dim; ++j) obs_f[j] = static_cast<float>(obs[j]);
    acting.forward(obs_f.data(), out_f.data());
    for (int j = 0; j < act_dim; ++j) {
      float x = out_f[j];
      if (eps) {
        const float log_std = static_cast<float>(kLogStdMin) +
                              0.5f * static_cast<float>(kLogStdMax - kLogStdMin) * (std::tanh(out_f[act_dim + j]) + 1.0f);
        x += std::exp(log_std) * eps[j];
      }
      action[j] = std::tanh(x) * scale_f[j] + bias_f[j];
    }
  }

  // Actions, their log-probabilities and the squashed means for a batch of observations;
  // eps: standard normal draws, batch x act_dim (the reparameterisation's noise).
  void get_action(const torch::Tensor& obs, const torch::Tensor& eps, torch::Tensor* action, torch::Tensor* log_prob,
                  torch::Tensor* mean_action) {
    const torch::Tensor h = trunk->forward(obs);
    const torch::Tensor mean = fc_mean->forward(h);
    torch::Tensor log_std = torch::tanh(fc_logstd->forward(h));
    log_std = kLogStdMin + 0.5 * (kLogStdMax - kLogStdMin) * (log_std + 1.0);
    if (action) {
      const torch::Tensor x = mean + log_std.exp() * eps;
      const torch::Tensor y = torch::tanh(x);
      *action = y * scale + bias;
      if (log_prob) {
        // Normal(mean, std).log_prob(x), less the tanh squashing's log-Jacobian.
        torch::Tensor lp = -0.5 * eps.pow(2) - log_std - core::kLogSqrt2Pi;
        lp = lp - torch::log(scale * (1.0 - y.pow(2)) + 1e-6);
        *log_prob = lp.sum(1, true);
      }
    }
    if (mean_action) *mean_action = torch::tanh(mean) * scale + bias;
  }

  // The hand-written update's passes over the same parameters, and one squashed-Gaussian
  // sample of a batch (get_action's intermediates, kept for the actor's backward).
  std::unique_ptr<MlpPass> actor_pass;  // the trunk, then both heads stacked: [mean, log-std] rows
  std::unique_ptr<TwinCriticPass> critics;
  std::vector<float> eps, tanh_raw, log_std, squashed, action, log_prob;
  std::vector<float> target, dq1, dq2, d_heads;

  // get_action by hand for obs [batch, obs_dim] with the reparameterisation noise eps.
  void sample_by_hand(const float* obs, int batch) {
    const float* heads = actor_pass->forward(obs, batch);
    const std::size_t n = static_cast<std::size_t>(batch) * act_dim;
    tanh_raw.resize(n);
    log_std.resize(n);
    squashed.resize(n);
    action.resize(n);
    log_prob.resize(static_cast<std::size_t>(batch));
    const float low = static_cast<float>(kLogStdMin), half_range = static_cast<float>(0.5 * (kLogStdMax - kLogStdMin));
    const float log_sqrt_2pi = static_cast<float>(core::kLogSqrt2Pi);
    for (int r = 0; r < batch; ++r) {
      float lp = 0.0f;
      for (int j = 0; j < act_dim; ++j) {
        const std::size_t i = static_cast<std::size_t>(r) * act_dim + j;
        const float* row = heads + static_cast<std::size_t>(r) * 2 * act_dim;  // mean, then log-std
        tanh_raw[i] = std::tanh(row[act_dim + j]);
        log_std[i] = low + half_range * (tanh_raw[i] + 1.0f);
        const float y = std::tanh(row[j] + std::exp(log_std[i]) * eps[i]);
        squashed[i] = y;
        action[i] = y * scale_f[j] + bias_f[j];
        lp += -0.5f * eps[i] * eps[i] - log_std[i] - log_sqrt_2pi - std::log(scale_f[j] * (1.0f - y * y) + 1e-6f);
      }
      log_prob[r] = lp;
    }
  }

  // The actor's backward from dL/d action [batch, act_dim] and dL/d log_prob (the same for
  // every row) of the last sample_by_hand, through the squashing and both heads into the actor's
  // parameter gradients.
  void actor_backward_by_hand(const float* d_action, float d_log_prob, int batch) {
    const std::size_t n = static_cast<std::size_t>(batch) * act_dim;
    d_heads.resize(2 * n);
    const float half_range = static_cast<float>(0.5 * (kLogStdMax - kLogStdMin));
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t r = i / static_cast<std::size_t>(act_dim);
      const int j = static_cast<int>(i % static_cast<std::size_t>(act_dim));
      const float y = squashed[i], s = scale_f[j];
      const float d_y = d_action[i] * s + d_log_prob * 2.0f * s * y / (s * (1.0f - y * y) + 1e-6f);
      const float d_x = d_y * (1.0f - y * y);
      const float d_log_std = d_x * std::exp(log_std[i]) * eps[i] - d_log_prob;
      float* row = d_heads.data() + r * 2 * act_dim;
      row[j] = d_x;  // d mean
      row[act_dim + j] = d_log_std * half_range * (1.0f - tanh_raw[i] * tanh_raw[i]);  // d raw log-std
    }
    actor_pass->backward(d_heads.data(), /*weight_grads=*/true, /*input_grad=*/false);
  }

  std::vector<torch::Tensor> actor_parameters() const { return actor->parameters(); }
  // The reparameterisation's noise: batch x act_dim standard normal draws.
  torch::Tensor noise(std::vector<float>& draws) const { return rows(draws, act_dim).clone(); }
};

SacAgent::SacAgent(const AgentShape& shape, const OffPolicyConfig& config, std::uint64_t seed)
    : OffPolicyAgent(shape, config, seed), impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  stats_.alpha = 0.2;
  m.obs_dim = shape.obs_dim;
  m.act_dim = shape.act_dim;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(core::derive_seed(seed, core::Stream::kInit));
  const auto& hidden = config.hidden_sizes;
  m.trunk = relu_mlp(shape.obs_dim, std::vector<long long>(hidden.begin(), hidden.end() - 1), static_cast<int>(hidden.back()),
                     generator);
  m.trunk->push_back(torch::nn::ReLU());
  m.fc_mean = relu_mlp(static_cast<int>(hidden.back()), {}, shape.act_dim, generator);
  m.fc_logstd = relu_mlp(static_cast<int>(hidden.back()), {}, shape.act_dim, generator);
  m.actor = torch::nn::ModuleList(m.trunk, m.fc_mean, m.fc_logstd);
  m.qf1 = relu_mlp(shape.obs_dim + shape.act_dim, hidden, 1, generator);
  m.qf2 = relu_mlp(shape.obs_dim + shape.act_dim, hidden, 1, generator);
  m.qf1_target = relu_mlp(shape.obs_dim + shape.act_dim, hidden, 1, generator);
  m.qf2_target = relu_mlp(shape.obs_dim + shape.act_dim, hidden, 1, generator);
  copy_parameters(*m.qf1, *m.qf1_target);
  copy_parameters(*m.qf2, *m.qf2_target);
  std::vector<float> scale(shape.act_dim), bias(shape.act_dim);
  for (int j = 0; j < shape.act_dim; ++j) {
    scale[j] = static_cast<float>((shape.act_high[j] - shape.act_low[j]) / 2.0);
    bias[j] = static_cast<float>((shape.act_high[j] + shape.act_low[j]) / 2.0);
  }
  m.scale_f = scale;
  m.bias_f = bias;
  m.obs_f.resize(static_cast<std::size_t>(shape.obs_dim));
  m.out_f.resize(static_cast<std::size_t>(2 * shape.act_dim));
  m.scale = torch::tensor(scale).view({1, shape.act_dim});
  m.bias = torch::tensor(bias).view({1, shape.act_dim});
  m.log_alpha = torch::zeros({1}, torch::kFloat32).set_requires_grad(true);
  std::vector<torch::Tensor> q_params = m.qf1->parameters();
  for (const auto& p : m.qf2->parameters()) q_params.push_back(p);
  m.q_optimizer = std::make_unique<optim::ControllableOptimizer>(optim::OptimizerKind::kAdam, q_params, adam(1e-3));
  m.actor_optimizer =
      std::make_unique<optim::ControllableOptimizer>(optim::OptimizerKind::kAdam, m.actor_parameters(), adam(3e-4));
  m.a_optimizer = std::make_unique<optim::ControllableOptimizer>(optim::OptimizerKind::kAdam,
                                                                 std::vector<torch::Tensor>{m.log_alpha}, adam(1e-3));
  m.actor_pass = std::make_unique<MlpPass>(m.trunk, std::vector<torch::nn::Sequential>{m.fc_mean, m.fc_logstd});
  m.critics = std::make_unique<TwinCriticPass>(m.qf1, m.qf2, m.qf1_target, m.qf2_target, shape.obs_dim, shape.act_dim);
}

SacAgent::~SacAgent() = default;

void SacAgent::check_hyperparameters(const core::Hyperparameters& hp) const {
  check_common_hyperparameters(hp);
  require("policy_lr", hp.get("policy_lr") > 0, "> 0");
  require("q_lr", hp.get("q_lr") > 0, "> 0");
  require("target_network_frequency", hp.get_int("target_network_frequency") >= 1, ">= 1");
  require("alpha", hp.get("alpha") >= 0, ">= 0");
}

void SacAgent::refresh_acting_copy() {
  if (!acting_copy_stale_) return;
  impl_->refresh_acting();
  acting_copy_stale_ = false;
}

void SacAgent::explore(const double* obs, int n, const core::Hyperparameters&, double* actions) {
  auto& m = *impl_;
  refresh_acting_copy();
  const std::vector<float>& eps = normal_draws(static_cast<std::size_t>(n) * m.act_dim);
  for (int e = 0; e < n; ++e) {
    const auto row = static_cast<std::size_t>(e);
    m.act_one(obs + row * m.obs_dim, eps.data() + row * m.act_dim, actions + row * m.act_dim);
  }
}

void SacAgent::explore_reference(const double* obs, int n, double* actions) {
  auto& m = *impl_;
  torch::NoGradGuard no_grad;
  const torch::Tensor o = torch::from_blob(const_cast<double*>(obs), {n, m.obs_dim}, torch::kFloat64).to(torch::kFloat32);
  torch::Tensor action;
  m.get_action(o, m.noise(normal_draws(static_cast<std::size_t>(n) * m.act_dim)), &action, nullptr, nullptr);
  const torch::Tensor a = action.to(torch::kFloat64).contiguous();
  std::copy_n(a.data_ptr<double>(), static_cast<std::size_t>(n) * m.act_dim, actions);
}

void SacAgent::act_deterministic(const double* obs, int n, double* actions) {
  auto& m = *impl_;
  refresh_acting_copy();
  for (int e = 0; e < n; ++e) {
    const auto row = static_cast<std::size_t>(e);
    m.act_one(obs + row * m.obs_dim, nullptr, actions + row * m.act_dim);
  }
}

void SacAgent::act_deterministic_reference(const double* obs, int n, double* actions) {
  auto& m = *impl_;
  torch::NoGradGuard no_grad;
  const torch::Tensor o = torch::from_blob(const_cast<double*>(obs), {n, m.obs_dim}, torch::kFloat64).to(torch::kFloat32);
  torch::Tensor mean;
  m.get_action(o, torch::Tensor(), nullptr, nullptr, &mean);
  const torch::Tensor a = mean.to(torch::kFloat64).contiguous();
  std::copy_n(a.data_ptr<double>(), static_cast<std::size_t>(n) * m.act_dim, actions);
}

struct SacAgent::UpdateStep {
  double gamma, target_entropy;
  int batch;
  std::int64_t policy_frequency;
};

bool SacAgent::update(const core::Hyperparameters& hp, const UpdateContext&) {
  auto& m = *impl_;
  UpdateStep step;
  step.gamma = hp.get("gamma");
  step.batch = static_cast<int>(hp.get_int("batch_size"));
  step.policy_frequency = hp.get_int("policy_frequency");
  const double tau = hp.get("tau");
  const std::int64_t target_network_frequency = hp.get_int("target_network_frequency");
  m.autotune = hp.get_bool("autotune");
  step.target_entropy = -hp.get("target_entropy_scale") * m.act_dim;
  m.q_optimizer->set_lr(hp.get("q_lr"));
  m.actor_optimizer->set_lr(hp.get("policy_lr"));
  m.a_optimizer->set_lr(hp.get("q_lr"));
  stats_.alpha = m.autotune ? m.log_alpha.exp().item<double>() : hp.get("alpha");

  sample(step.batch);
  if (config_.autograd_update) {
    update_autograd(step);
  } else {
    update_by_hand(step);
  }

  if (vector_step() % target_network_frequency == 0) {
    soft_update(*m.qf1, *m.qf1_target, tau);
    soft_update(*m.qf2, *m.qf2_target, tau);
  }
  stats_.updated = true;
  stats_.reported = false;
  return std::isfinite(stats_.qf1_loss) && std::isfinite(stats_.qf2_loss) && std::isfinite(stats_.actor_loss) &&
         std::isfinite(stats_.alpha);
}

// CleanRL's update as written there, through LibTorch's autograd: the reference of update_by_hand.
void SacAgent::update_autograd(const UpdateStep& step) {
  auto& m = *impl_;
  const int batch = step.batch;
  const auto noise = [&] { return m.noise(normal_draws(static_cast<std::size_t>(batch) * m.act_dim)); };
  const torch::Tensor obs = rows(batch_obs_, m.obs_dim), next_obs = rows(batch_next_obs_, m.obs_dim);
  const torch::Tensor actions = rows(batch_actions_, m.act_dim);
  const torch::Tensor rewards = rows(batch_rewards_, 1).view(-1), dones = rows(batch_dones_, 1).view(-1);

  torch::Tensor next_q_value;
  {
    torch::NoGradGuard no_grad;
    torch::Tensor next_actions, next_log_pi;
    m.get_action(next_obs, noise(), &next_actions, &next_log_pi, nullptr);
    const torch::Tensor next_in = torch::cat({next_obs, next_actions}, 1);
    const torch::Tensor min_qf_next_target =
        torch::min(m.qf1_target->forward(next_in), m.qf2_target->forward(next_in)) - stats_.alpha * next_log_pi;
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

  if (vector_step() % step.policy_frequency != 0) return;
  for (std::int64_t k = 0; k < step.policy_frequency; ++k) {  // TD3's delayed update, compensated by repeating it
    torch::Tensor pi, log_pi;
    m.get_action(obs, noise(), &pi, &log_pi, nullptr);
    const torch::Tensor pi_in = torch::cat({obs, pi}, 1);
    const torch::Tensor min_qf_pi = torch::min(m.qf1->forward(pi_in), m.qf2->forward(pi_in));
    const torch::Tensor actor_loss = (stats_.alpha * log_pi - min_qf_pi).mean();
    m.actor_optimizer->zero_grad();
    actor_loss.backward();
    m.actor_optimizer->step();
    stats_.actor_loss = actor_loss.item<double>();
    ++stats_.actor_updates;
    acting_copy_stale_ = true;

    if (m.autotune) {
      torch::Tensor log_pi_now;
      {
        torch::NoGradGuard no_grad;
        torch::Tensor unused;
        m.get_action(obs, noise(), &unused, &log_pi_now, nullptr);
      }
      const torch::Tensor alpha_loss = (-m.log_alpha.exp() * (log_pi_now + step.target_entropy)).mean();
      m.a_optimizer->zero_grad();
      alpha_loss.backward();
      m.a_optimizer->step();
      stats_.alpha = m.log_alpha.exp().item<double>();
      stats_.alpha_loss = alpha_loss.item<double>();
    }
  }
}

// The same update with every network through MlpPass and every loss's gradient written out:
// the same noise draws in the same order, the same arithmetic up to float rounding; the
// critics get no gradient from the actor's loss (autograd computes one and discards it).
void SacAgent::update_by_hand(const UpdateStep& step) {
  auto& m = *impl_;
  const int batch = step.batch;
  const std::size_t draws = static_cast<std::size_t>(batch) * m.act_dim;
  const auto draw_noise = [&] {
    const std::vector<float>& e = normal_draws(draws);
    m.eps.assign(e.begin(), e.end());
  };
  const float gamma = static_cast<float>(step.gamma);

  float alpha = static_cast<float>(stats_.alpha);
  draw_noise();
  m.sample_by_hand(batch_next_obs_.data(), batch);
  const float* minimum = m.critics->target_minimum(batch_next_obs_.data(), m.action.data(), batch);
  m.target.resize(static_cast<std::size_t>(batch));
  for (int r = 0; r < batch; ++r) {
    m.target[r] = batch_rewards_[r] + (1.0f - batch_dones_[r]) * gamma * (minimum[r] - alpha * m.log_prob[r]);
  }
  record_critics(m.critics->fit(batch_obs_.data(), batch_actions_.data(), m.target.data(), batch));
  m.q_optimizer->fused_step();

  if (vector_step() % step.policy_frequency != 0) return;
  m.dq1.resize(static_cast<std::size_t>(batch));
  m.dq2.resize(static_cast<std::size_t>(batch));
  const float per_row = 1.0f / static_cast<float>(batch);
  for (std::int64_t k = 0; k < step.policy_frequency; ++k) {  // TD3's delayed update, compensated by repeating it
    alpha = static_cast<float>(stats_.alpha);  // as the α step of the previous repeat left it
    draw_noise();
    m.sample_by_hand(batch_obs_.data(), batch);
    const TwinCriticPass::Values q = m.critics->values(batch_obs_.data(), m.action.data(), batch, /*both=*/true);
    // actor_loss = mean(α log π - min(Q1, Q2)); min's gradient goes to the smaller (half each on a tie).
    double loss = 0.0;
    for (int r = 0; r < batch; ++r) {
      loss += alpha * m.log_prob[r] - std::min(q.q1[r], q.q2[r]);
      const float tie = q.q1[r] == q.q2[r] ? 0.5f : 1.0f;
      m.dq1[r] = q.q1[r] <= q.q2[r] ? -per_row * tie : 0.0f;
      m.dq2[r] = q.q2[r] <= q.q1[r] ? -per_row * tie : 0.0f;
    }
    m.actor_backward_by_hand(m.critics->action_gradient(m.dq1.data(), m.dq2.data()), alpha * per_row, batch);
    m.actor_optimizer->fused_step();
    stats_.actor_loss = loss / batch;
    ++stats_.actor_updates;
    acting_copy_stale_ = true;

    if (m.autotune) {
      draw_noise();
      m.sample_by_hand(batch_obs_.data(), batch);
      // alpha_loss = mean(-exp(log α) (log π + target entropy)), which is also its gradient in log α.
      const float alpha_now = std::exp(m.log_alpha.item<float>());
      const float target_entropy = static_cast<float>(step.target_entropy);
      double alpha_loss = 0.0;
      for (int r = 0; r < batch; ++r) alpha_loss += -alpha_now * (m.log_prob[r] + target_entropy);
      alpha_loss /= batch;
      torch::Tensor& grad = m.log_alpha.mutable_grad();
      if (!grad.defined()) grad = torch::zeros_like(m.log_alpha);
      grad.fill_(alpha_loss);
      m.a_optimizer->fused_step();
      stats_.alpha = m.log_alpha.exp().item<double>();
      stats_.alpha_loss = alpha_loss;
    }
  }
}

std::string SacAgent::divergence() const { return OffPolicyAgent::divergence() + ", alpha " + std::to_string(stats_.alpha); }

void SacAgent::report_more(std::int64_t step, core::MetricSink& sink) {
  sink.metric(step, "losses/alpha", stats_.alpha);
  if (impl_->autotune) sink.metric(step, "losses/alpha_loss", stats_.alpha_loss);
}

double SacAgent::alpha() const { return impl_->log_alpha.exp().item<double>(); }

LearnerParts SacAgent::parts() const {
  auto& m = *impl_;
  return {{{"actor", m.actor.get()},
           {"qf1", m.qf1.get()},
           {"qf2", m.qf2.get()},
           {"qf1_target", m.qf1_target.get()},
           {"qf2_target", m.qf2_target.get()}},
          {{"q_optimizer", m.q_optimizer.get()},
           {"actor_optimizer", m.actor_optimizer.get()},
           {"a_optimizer", m.a_optimizer.get()}},
          {{"log_alpha", &m.log_alpha}}};
}

void SacAgent::copy_state_from(const Agent& other) {
  OffPolicyAgent::copy_state_from(other);
  impl_->autotune = static_cast<const SacAgent&>(other).impl_->autotune;
}

}  // namespace graybox::agents
