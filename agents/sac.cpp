#include "agents/sac.hpp"

#include <cmath>
#include <stdexcept>

#include "agents/torch_mlp.hpp"
#include "core/error.hpp"
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
  std::int64_t actor_updates = 0;
  bool updated = false, reported = true;
  double qf1_values = 0, qf2_values = 0, qf1_loss = 0, qf2_loss = 0, actor_loss = 0, alpha_loss = 0, alpha = 0.2;
  bool autotune = true;
  std::vector<float> noise;

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

  torch::Tensor standard_normal(core::Rng& rng, long long batch) {
    noise.resize(static_cast<std::size_t>(batch * act_dim));
    for (auto& x : noise) x = static_cast<float>(rng.normal());
    return torch::from_blob(noise.data(), {batch, act_dim}, torch::kFloat32).clone();
  }

  std::vector<torch::Tensor> actor_parameters() const { return actor->parameters(); }
};

SacAgent::SacAgent(const AgentShape& shape, const OffPolicyConfig& config, std::uint64_t seed)
    : OffPolicyAgent(shape, config, seed), impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
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
}

SacAgent::~SacAgent() = default;

void SacAgent::check_hyperparameters(const core::Hyperparameters& hp) const {
  const auto require = [&](const char* name, bool ok, const char* rule) {
    if (!ok) throw std::invalid_argument(std::string("agent.") + name + " must be " + rule);
  };
  require("gamma", hp.get("gamma") >= 0 && hp.get("gamma") <= 1, "in [0, 1]");
  require("tau", hp.get("tau") >= 0 && hp.get("tau") <= 1, "in [0, 1]");
  require("batch_size", hp.get_int("batch_size") >= 1, ">= 1");
  require("learning_starts", hp.get_int("learning_starts") >= 0, ">= 0");
  require("policy_lr", hp.get("policy_lr") > 0, "> 0");
  require("q_lr", hp.get("q_lr") > 0, "> 0");
  require("policy_frequency", hp.get_int("policy_frequency") >= 1, ">= 1");
  require("target_network_frequency", hp.get_int("target_network_frequency") >= 1, ">= 1");
  require("alpha", hp.get("alpha") >= 0, ">= 0");
  require("iteration_steps", hp.get_int("iteration_steps") >= 1, ">= 1");
}

void SacAgent::explore(const double* obs, int n, const core::Hyperparameters&, double* actions) {
  auto& m = *impl_;
  torch::NoGradGuard no_grad;
  const torch::Tensor o = torch::from_blob(const_cast<double*>(obs), {n, m.obs_dim}, torch::kFloat64).to(torch::kFloat32);
  torch::Tensor action;
  m.get_action(o, m.standard_normal(rng_, n), &action, nullptr, nullptr);
  const torch::Tensor a = action.to(torch::kFloat64).contiguous();
  std::copy_n(a.data_ptr<double>(), static_cast<std::size_t>(n) * m.act_dim, actions);
}

void SacAgent::act_deterministic(const double* obs, int n, double* actions) {
  auto& m = *impl_;
  torch::NoGradGuard no_grad;
  const torch::Tensor o = torch::from_blob(const_cast<double*>(obs), {n, m.obs_dim}, torch::kFloat64).to(torch::kFloat32);
  torch::Tensor mean;
  m.get_action(o, torch::Tensor(), nullptr, nullptr, &mean);
  const torch::Tensor a = mean.to(torch::kFloat64).contiguous();
  std::copy_n(a.data_ptr<double>(), static_cast<std::size_t>(n) * m.act_dim, actions);
}

bool SacAgent::update(const core::Hyperparameters& hp, const UpdateContext&) {
  auto& m = *impl_;
  const double gamma = hp.get("gamma"), tau = hp.get("tau");
  const int batch = static_cast<int>(hp.get_int("batch_size"));
  const std::int64_t policy_frequency = hp.get_int("policy_frequency");
  const std::int64_t target_network_frequency = hp.get_int("target_network_frequency");
  m.autotune = hp.get_bool("autotune");
  const double target_entropy = -hp.get("target_entropy_scale") * m.act_dim;
  m.q_optimizer->set_lr(hp.get("q_lr"));
  m.actor_optimizer->set_lr(hp.get("policy_lr"));
  m.a_optimizer->set_lr(hp.get("q_lr"));
  m.alpha = m.autotune ? m.log_alpha.exp().item<double>() : hp.get("alpha");

  sample(batch);
  const torch::Tensor obs = rows(batch_obs_, m.obs_dim), next_obs = rows(batch_next_obs_, m.obs_dim);
  const torch::Tensor actions = rows(batch_actions_, m.act_dim);
  const torch::Tensor rewards = rows(batch_rewards_, 1).view(-1), dones = rows(batch_dones_, 1).view(-1);

  torch::Tensor next_q_value;
  {
    torch::NoGradGuard no_grad;
    torch::Tensor next_actions, next_log_pi;
    m.get_action(next_obs, m.standard_normal(rng_, batch), &next_actions, &next_log_pi, nullptr);
    const torch::Tensor next_in = torch::cat({next_obs, next_actions}, 1);
    const torch::Tensor min_qf_next_target =
        torch::min(m.qf1_target->forward(next_in), m.qf2_target->forward(next_in)) - m.alpha * next_log_pi;
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

  if (vector_step() % policy_frequency == 0) {  // TD3's delayed update, compensated by repeating it
    for (std::int64_t k = 0; k < policy_frequency; ++k) {
      torch::Tensor pi, log_pi;
      m.get_action(obs, m.standard_normal(rng_, batch), &pi, &log_pi, nullptr);
      const torch::Tensor pi_in = torch::cat({obs, pi}, 1);
      const torch::Tensor min_qf_pi = torch::min(m.qf1->forward(pi_in), m.qf2->forward(pi_in));
      const torch::Tensor actor_loss = (m.alpha * log_pi - min_qf_pi).mean();
      m.actor_optimizer->zero_grad();
      actor_loss.backward();
      m.actor_optimizer->step();
      m.actor_loss = actor_loss.item<double>();
      ++m.actor_updates;

      if (m.autotune) {
        torch::Tensor log_pi_now;
        {
          torch::NoGradGuard no_grad;
          torch::Tensor unused;
          m.get_action(obs, m.standard_normal(rng_, batch), &unused, &log_pi_now, nullptr);
        }
        const torch::Tensor alpha_loss = (-m.log_alpha.exp() * (log_pi_now + target_entropy)).mean();
        m.a_optimizer->zero_grad();
        alpha_loss.backward();
        m.a_optimizer->step();
        m.alpha = m.log_alpha.exp().item<double>();
        m.alpha_loss = alpha_loss.item<double>();
      }
    }
  }

  if (vector_step() % target_network_frequency == 0) {
    soft_update(*m.qf1, *m.qf1_target, tau);
    soft_update(*m.qf2, *m.qf2_target, tau);
  }
  m.updated = true;
  m.reported = false;
  return std::isfinite(m.qf1_loss) && std::isfinite(m.qf2_loss) && std::isfinite(m.actor_loss) && std::isfinite(m.alpha);
}

std::string SacAgent::divergence() const {
  const auto& m = *impl_;
  return "qf1 loss " + std::to_string(m.qf1_loss) + ", qf2 loss " + std::to_string(m.qf2_loss) + ", actor loss " +
         std::to_string(m.actor_loss) + ", alpha " + std::to_string(m.alpha);
}

void SacAgent::report(std::int64_t step, core::MetricSink& sink) {
  auto& m = *impl_;
  if (m.reported || !m.updated) return;
  m.reported = true;
  sink.metric(step, "losses/qf1_values", m.qf1_values);
  sink.metric(step, "losses/qf2_values", m.qf2_values);
  sink.metric(step, "losses/qf1_loss", m.qf1_loss);
  sink.metric(step, "losses/qf2_loss", m.qf2_loss);
  sink.metric(step, "losses/qf_loss", (m.qf1_loss + m.qf2_loss) / 2.0);
  sink.metric(step, "losses/actor_loss", m.actor_loss);
  sink.metric(step, "losses/alpha", m.alpha);
  if (m.autotune) sink.metric(step, "losses/alpha_loss", m.alpha_loss);
}

double SacAgent::parameter_checksum() const {
  const auto& m = *impl_;
  return abs_sum(*m.actor) + abs_sum(*m.qf1) + abs_sum(*m.qf2) + m.log_alpha.abs().sum().item<double>();
}

double SacAgent::alpha() const { return impl_->log_alpha.exp().item<double>(); }
std::int64_t SacAgent::actor_updates() const { return impl_->actor_updates; }

std::vector<float> SacAgent::parameters_of(const std::string& network) const {
  const auto& m = *impl_;
  if (network == "actor") return flat_parameters(*m.actor);
  if (network == "qf1") return flat_parameters(*m.qf1);
  if (network == "qf2") return flat_parameters(*m.qf2);
  if (network == "qf1_target") return flat_parameters(*m.qf1_target);
  if (network == "qf2_target") return flat_parameters(*m.qf2_target);
  throw std::invalid_argument("no network " + network);
}

void SacAgent::save_learner(const std::string& dir) const {
  const auto& m = *impl_;
  torch::serialize::OutputArchive root, actor, qf1, qf2, qf1_target, qf2_target, q_opt, actor_opt, a_opt;
  m.actor->save(actor);
  m.qf1->save(qf1);
  m.qf2->save(qf2);
  m.qf1_target->save(qf1_target);
  m.qf2_target->save(qf2_target);
  m.q_optimizer->save(q_opt);
  m.actor_optimizer->save(actor_opt);
  m.a_optimizer->save(a_opt);
  root.write("actor", actor);
  root.write("qf1", qf1);
  root.write("qf2", qf2);
  root.write("qf1_target", qf1_target);
  root.write("qf2_target", qf2_target);
  root.write("q_optimizer", q_opt);
  root.write("actor_optimizer", actor_opt);
  root.write("a_optimizer", a_opt);
  root.write("log_alpha", m.log_alpha.detach());
  root.write("actor_updates", torch::tensor(static_cast<double>(m.actor_updates), torch::kFloat64));
  root.save_to(dir + "/agent.pt");
}

void SacAgent::load_learner(const std::string& dir) {
  auto& m = *impl_;
  const std::string path = dir + "/agent.pt";
  try {
    torch::serialize::InputArchive root, actor, qf1, qf2, qf1_target, qf2_target, q_opt, actor_opt, a_opt;
    root.load_from(path);
    root.read("actor", actor);
    root.read("qf1", qf1);
    root.read("qf2", qf2);
    root.read("qf1_target", qf1_target);
    root.read("qf2_target", qf2_target);
    root.read("q_optimizer", q_opt);
    root.read("actor_optimizer", actor_opt);
    root.read("a_optimizer", a_opt);
    m.actor->load(actor);
    m.qf1->load(qf1);
    m.qf2->load(qf2);
    m.qf1_target->load(qf1_target);
    m.qf2_target->load(qf2_target);
    m.q_optimizer->load(q_opt);
    m.actor_optimizer->load(actor_opt);
    m.a_optimizer->load(a_opt);
    torch::Tensor log_alpha, updates;
    root.read("log_alpha", log_alpha);
    root.read("actor_updates", updates);
    {
      torch::NoGradGuard no_grad;
      m.log_alpha.copy_(log_alpha);
    }
    m.actor_updates = static_cast<std::int64_t>(updates.item<double>());
  } catch (const c10::Error& e) {
    throw core::UserError(path + ": not a valid SAC checkpoint (" + e.what_without_backtrace() + ")");
  }
}

void SacAgent::copy_learner(const OffPolicyAgent& other) {
  const auto* o = dynamic_cast<const SacAgent*>(&other);
  if (!o) throw std::invalid_argument("copy_state_from: the other agent is not a SAC agent");
  auto& m = *impl_;
  const auto& s = *o->impl_;
  copy_parameters(*s.actor, *m.actor);
  copy_parameters(*s.qf1, *m.qf1);
  copy_parameters(*s.qf2, *m.qf2);
  copy_parameters(*s.qf1_target, *m.qf1_target);
  copy_parameters(*s.qf2_target, *m.qf2_target);
  {
    torch::NoGradGuard no_grad;
    m.log_alpha.copy_(s.log_alpha);
  }
  m.q_optimizer->copy_state_from(*s.q_optimizer);
  m.actor_optimizer->copy_state_from(*s.actor_optimizer);
  m.a_optimizer->copy_state_from(*s.a_optimizer);
  m.actor_updates = s.actor_updates;
  m.updated = s.updated;
  m.reported = s.reported;
  m.qf1_values = s.qf1_values, m.qf2_values = s.qf2_values, m.qf1_loss = s.qf1_loss, m.qf2_loss = s.qf2_loss;
  m.actor_loss = s.actor_loss, m.alpha_loss = s.alpha_loss, m.alpha = s.alpha, m.autotune = s.autotune;
}

}  // namespace graybox::agents
