#include "agents/ppo.hpp"

#include <torch/torch.h>

#include <cmath>
#include <numeric>

#include "agents/mlp_inference.hpp"
#include "core/error.hpp"

namespace graybox::agents {
namespace {

constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log(sqrt(2*pi))

// Orthogonal initialisation (Saxe et al.) drawn from a private generator, so building an agent
// never touches LibTorch's global RNG and parallel trials stay independent.
void orthogonal_init(torch::Tensor weight, double gain, at::Generator& generator) {
  torch::NoGradGuard no_grad;
  const int64_t rows = weight.size(0), cols = weight.size(1);
  torch::Tensor flat = at::normal(0.0, 1.0, {rows, cols}, generator);
  if (rows < cols) flat = flat.t();
  auto [q, r] = torch::linalg_qr(flat);
  q = q * torch::sign(torch::diagonal(r, 0));
  if (rows < cols) q = q.t();
  weight.copy_(q.mul(gain));
}

torch::nn::Sequential make_mlp(int in, const std::vector<long long>& hidden, int out,
                               double head_gain, at::Generator& generator) {
  torch::nn::Sequential net;
  int width = in;
  for (const long long h : hidden) {
    auto linear = torch::nn::Linear(width, h);
    orthogonal_init(linear->weight, std::sqrt(2.0), generator);
    torch::nn::init::zeros_(linear->bias);
    net->push_back(linear);
    net->push_back(torch::nn::Tanh());
    width = static_cast<int>(h);
  }
  auto head = torch::nn::Linear(width, out);
  orthogonal_init(head->weight, head_gain, generator);
  torch::nn::init::zeros_(head->bias);
  net->push_back(head);
  return net;
}

MlpInference snapshot(const torch::nn::Sequential& net) {
  std::vector<MlpInference::Layer> layers;
  for (const auto& module : net->children()) {
    auto* linear = module->as<torch::nn::Linear>();
    if (!linear) continue;
    MlpInference::Layer layer;
    const torch::Tensor w = linear->weight.detach().contiguous();
    const torch::Tensor b = linear->bias.detach().contiguous();
    layer.out = static_cast<int>(w.size(0));
    layer.in = static_cast<int>(w.size(1));
    layer.weight.assign(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
    layer.bias.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    layers.push_back(std::move(layer));
  }
  MlpInference inference;
  inference.set_layers(std::move(layers));
  return inference;
}

torch::Tensor rows_tensor(const std::vector<float>& data, int64_t rows, int64_t cols) {
  return torch::from_blob(const_cast<float*>(data.data()), {rows, cols}, torch::kFloat32);
}

}  // namespace

void set_torch_threads(int threads) { torch::set_num_threads(threads); }

struct PpoAgent::Impl {
  int obs_dim, act_dim;
  PpoNetworkConfig network;
  torch::nn::Sequential actor{nullptr}, critic{nullptr};
  torch::Tensor log_std;
  std::unique_ptr<torch::optim::Adam> optimizer;
  MlpInference actor_fast, critic_fast;
  std::vector<float> std_fast;  // exp(log_std)
  std::vector<float> log_std_fast;

  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> params = actor->parameters();
    for (const auto& p : critic->parameters()) params.push_back(p);
    params.push_back(log_std);
    return params;
  }

  void refresh_inference() {
    actor_fast = snapshot(actor);
    critic_fast = snapshot(critic);
    const torch::Tensor ls = log_std.detach().contiguous();
    log_std_fast.assign(ls.data_ptr<float>(), ls.data_ptr<float>() + act_dim);
    std_fast.resize(static_cast<std::size_t>(act_dim));
    for (int j = 0; j < act_dim; ++j) std_fast[j] = std::exp(log_std_fast[j]);
  }
};

PpoAgent::PpoAgent(int obs_dim, int act_dim, const PpoNetworkConfig& network,
                   std::uint64_t init_seed)
    : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.obs_dim = obs_dim;
  m.act_dim = act_dim;
  m.network = network;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(init_seed);
  m.critic = make_mlp(obs_dim, network.hidden_sizes, 1, 1.0, generator);
  m.actor = make_mlp(obs_dim, network.hidden_sizes, act_dim, 0.01, generator);
  m.log_std = torch::full({1, act_dim}, network.init_log_std, torch::kFloat32).set_requires_grad(true);
  m.optimizer = std::make_unique<torch::optim::Adam>(
      m.parameters(), torch::optim::AdamOptions(3e-4).eps(1e-5));
  m.refresh_inference();
}

PpoAgent::~PpoAgent() = default;

int PpoAgent::obs_dim() const { return impl_->obs_dim; }
int PpoAgent::act_dim() const { return impl_->act_dim; }

void PpoAgent::act(const float* obs, int n, core::Rng& rng, float* actions, float* logprobs,
                   float* values) {
  auto& m = *impl_;
  for (int i = 0; i < n; ++i) {
    const float* o = obs + static_cast<std::size_t>(i) * m.obs_dim;
    float* a = actions + static_cast<std::size_t>(i) * m.act_dim;
    m.actor_fast.forward(o, a);  // the mean
    double logprob = 0.0;
    for (int j = 0; j < m.act_dim; ++j) {
      const double noise = rng.normal();
      a[j] = static_cast<float>(a[j] + m.std_fast[j] * noise);
      logprob += -0.5 * noise * noise - m.log_std_fast[j] - kLogSqrt2Pi;
    }
    logprobs[i] = static_cast<float>(logprob);
    m.critic_fast.forward(o, values + i);
  }
}

void PpoAgent::act_deterministic(const float* obs, int n, float* actions) {
  auto& m = *impl_;
  for (int i = 0; i < n; ++i) {
    m.actor_fast.forward(obs + static_cast<std::size_t>(i) * m.obs_dim,
                         actions + static_cast<std::size_t>(i) * m.act_dim);
  }
}

void PpoAgent::value(const float* obs, int n, float* values) {
  auto& m = *impl_;
  for (int i = 0; i < n; ++i) m.critic_fast.forward(obs + static_cast<std::size_t>(i) * m.obs_dim, values + i);
}

PpoUpdateStats PpoAgent::update(const RolloutBuffer& buffer, const core::Hyperparameters& hp,
                                double learning_rate, core::Rng& rng) {
  auto& m = *impl_;
  check_ppo_hyperparameters(hp);
  for (auto& group : m.optimizer->param_groups()) {
    auto& options = static_cast<torch::optim::AdamOptions&>(group.options());
    options.lr(learning_rate);
    options.eps(hp.get("adam_eps"));
  }
  const double clip_coef = hp.get("clip_coef");
  const double ent_coef = hp.get("ent_coef");
  const double vf_coef = hp.get("vf_coef");
  const double max_grad_norm = hp.get("max_grad_norm");
  const double target_kl = hp.get("target_kl");
  const bool norm_adv = hp.get_bool("norm_adv");
  const bool clip_vloss = hp.get_bool("clip_vloss");
  const int64_t batch = static_cast<int64_t>(buffer.size());
  const int64_t minibatch = std::max<int64_t>(1, batch / hp.get_int("num_minibatches"));
  const int epochs = static_cast<int>(hp.get_int("update_epochs"));

  const torch::Tensor b_obs = rows_tensor(buffer.obs, batch, m.obs_dim);
  const torch::Tensor b_actions = rows_tensor(buffer.actions, batch, m.act_dim);
  const torch::Tensor b_logprobs = rows_tensor(buffer.logprobs, batch, 1).view({batch});
  const torch::Tensor b_advantages = rows_tensor(buffer.advantages, batch, 1).view({batch});
  const torch::Tensor b_returns = rows_tensor(buffer.returns, batch, 1).view({batch});
  const torch::Tensor b_values = rows_tensor(buffer.values, batch, 1).view({batch});
  const std::vector<torch::Tensor> params = m.parameters();

  std::vector<int64_t> order(static_cast<std::size_t>(batch));
  std::iota(order.begin(), order.end(), 0);
  PpoUpdateStats stats;
  stats.learning_rate = learning_rate;
  double sum_pg = 0, sum_v = 0, sum_ent = 0, sum_clip = 0;
  int count = 0;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    rng.shuffle(order.begin(), order.end());
    const torch::Tensor perm = torch::from_blob(order.data(), {batch}, torch::kInt64);
    for (int64_t start = 0; start < batch; start += minibatch) {
      const int64_t end = std::min(batch, start + minibatch);
      const torch::Tensor idx = perm.slice(0, start, end);
      const torch::Tensor obs = b_obs.index_select(0, idx);
      const torch::Tensor act = b_actions.index_select(0, idx);

      const torch::Tensor mean = m.actor->forward(obs);
      const torch::Tensor log_std = m.log_std.expand_as(mean);
      const torch::Tensor new_logprob =
          (-(act - mean).pow(2) / (2.0 * (2.0 * log_std).exp()) - log_std - kLogSqrt2Pi).sum(1);
      const torch::Tensor entropy = (0.5 + kLogSqrt2Pi + log_std).sum(1);
      const torch::Tensor new_value = m.critic->forward(obs).view({-1});

      const torch::Tensor logratio = new_logprob - b_logprobs.index_select(0, idx);
      const torch::Tensor ratio = logratio.exp();
      {
        torch::NoGradGuard no_grad;
        stats.old_approx_kl = (-logratio).mean().item<double>();
        stats.approx_kl = ((ratio - 1) - logratio).mean().item<double>();
        sum_clip += ((ratio - 1.0).abs() > clip_coef).to(torch::kFloat32).mean().item<double>();
      }

      torch::Tensor adv = b_advantages.index_select(0, idx);
      if (norm_adv) adv = (adv - adv.mean()) / (adv.std() + 1e-8);
      const torch::Tensor pg_loss =
          torch::max(-adv * ratio, -adv * torch::clamp(ratio, 1 - clip_coef, 1 + clip_coef)).mean();

      const torch::Tensor ret = b_returns.index_select(0, idx);
      torch::Tensor v_loss;
      if (clip_vloss) {
        const torch::Tensor old_value = b_values.index_select(0, idx);
        const torch::Tensor unclipped = (new_value - ret).pow(2);
        const torch::Tensor clipped =
            (old_value + torch::clamp(new_value - old_value, -clip_coef, clip_coef) - ret).pow(2);
        v_loss = 0.5 * torch::max(unclipped, clipped).mean();
      } else {
        v_loss = 0.5 * (new_value - ret).pow(2).mean();
      }
      const torch::Tensor entropy_loss = entropy.mean();
      const torch::Tensor loss = pg_loss - ent_coef * entropy_loss + vf_coef * v_loss;

      m.optimizer->zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(params, max_grad_norm);
      m.optimizer->step();

      sum_pg += pg_loss.item<double>();
      sum_v += v_loss.item<double>();
      sum_ent += entropy_loss.item<double>();
      ++count;
    }
    stats.epochs = epoch + 1;
    if (target_kl > 0 && stats.approx_kl > target_kl) break;
  }
  stats.policy_loss = sum_pg / count;
  stats.value_loss = sum_v / count;
  stats.entropy = sum_ent / count;
  stats.clipfrac = sum_clip / count;

  // Explained variance of the rollout's value predictions (population variances).
  double mean_ret = 0, mean_diff = 0;
  for (int64_t i = 0; i < batch; ++i) {
    mean_ret += buffer.returns[i];
    mean_diff += buffer.returns[i] - buffer.values[i];
  }
  mean_ret /= static_cast<double>(batch);
  mean_diff /= static_cast<double>(batch);
  double var_ret = 0, var_diff = 0;
  for (int64_t i = 0; i < batch; ++i) {
    var_ret += std::pow(buffer.returns[i] - mean_ret, 2);
    var_diff += std::pow(buffer.returns[i] - buffer.values[i] - mean_diff, 2);
  }
  stats.explained_variance = var_ret == 0 ? std::nan("") : 1.0 - var_diff / var_ret;

  m.refresh_inference();
  return stats;
}

void PpoAgent::save(const std::string& path) const {
  const auto& m = *impl_;
  torch::serialize::OutputArchive root, actor, critic, optimizer;
  m.actor->save(actor);
  m.critic->save(critic);
  m.optimizer->save(optimizer);
  root.write("actor", actor);
  root.write("critic", critic);
  root.write("log_std", m.log_std);
  root.write("optimizer", optimizer);
  root.save_to(path);
}

void PpoAgent::load(const std::string& path) {
  auto& m = *impl_;
  try {
    torch::serialize::InputArchive root, actor, critic, optimizer;
    root.load_from(path);
    root.read("actor", actor);
    root.read("critic", critic);
    root.read("optimizer", optimizer);
    m.actor->load(actor);
    m.critic->load(critic);
    torch::Tensor log_std;
    root.read("log_std", log_std);
    if (log_std.sizes() != m.log_std.sizes()) throw std::runtime_error("log_std has the wrong shape");
    {
      torch::NoGradGuard no_grad;
      m.log_std.copy_(log_std);
    }
    m.optimizer->load(optimizer);
  } catch (const c10::Error& e) {
    throw core::UserError(path + ": not a valid agent checkpoint (" + e.what_without_backtrace() + ")");
  } catch (const std::exception& e) {
    throw core::UserError(path + ": not a valid agent checkpoint (" + e.what() + ")");
  }
  m.refresh_inference();
}

void PpoAgent::copy_from(const PpoAgent& other) {
  auto& m = *impl_;
  const auto& o = *other.impl_;
  {
    torch::NoGradGuard no_grad;
    const auto dst = m.parameters();
    const auto src = o.parameters();
    for (std::size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
  }
  // The optimizer's moments: copy each parameter's Adam state.
  auto& dst_state = m.optimizer->state();
  dst_state.clear();
  const auto dst_params = m.parameters();
  const auto src_params = o.parameters();
  for (std::size_t i = 0; i < src_params.size(); ++i) {
    const auto key = c10::guts::to_string(src_params[i].unsafeGetTensorImpl());
    const auto it = o.optimizer->state().find(key);
    if (it == o.optimizer->state().end()) continue;
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    auto copy = std::make_unique<torch::optim::AdamParamState>();
    copy->step(s.step());
    copy->exp_avg(s.exp_avg().clone());
    copy->exp_avg_sq(s.exp_avg_sq().clone());
    if (s.max_exp_avg_sq().defined()) copy->max_exp_avg_sq(s.max_exp_avg_sq().clone());
    dst_state[c10::guts::to_string(dst_params[i].unsafeGetTensorImpl())] = std::move(copy);
  }
  for (std::size_t g = 0; g < m.optimizer->param_groups().size(); ++g) {
    m.optimizer->param_groups()[g].set_options(o.optimizer->param_groups()[g].options().clone());
  }
  m.refresh_inference();
}

double PpoAgent::parameter_checksum() const {
  double sum = 0;
  for (const auto& p : impl_->parameters()) sum += p.detach().abs().sum().item<double>();
  return sum;
}

}  // namespace graybox::agents
