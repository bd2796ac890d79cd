#include "agents/ppo.hpp"

#include <torch/torch.h>

#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <cmath>
#include <numeric>

#include "agents/mlp_inference.hpp"
#include "agents/ppo_loss.hpp"
#include "agents/torch_mlp.hpp"
#include "optim/optimizer.hpp"
#include "core/error.hpp"
#include "core/normal.hpp"
#include "optim/save_archive.hpp"

namespace graybox::agents {
namespace {

using core::kLogSqrt2Pi;

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
  MlpInference inference;
  inference.set_layers(linear_layers(*net));
  return inference;
}


// CleanRL's Adam: eps 1e-5, no weight decay (the learning rate is set at every update).
optim::OptimizerSettings adam_settings() {
  optim::OptimizerSettings s;
  s.lr = 3e-4;
  s.eps = 1e-5;
  return s;
}

}  // namespace

struct PpoLearner::Impl {
  int obs_dim, act_dim;
  PpoNetworkConfig network;
  torch::nn::Sequential actor{nullptr}, critic{nullptr};
  torch::Tensor log_std;
  // Every parameter is a view into one flat buffer, and every gradient a view into another,
  // so gradient clipping and the Adam step are a handful of operations on one tensor instead
  // of a dozen per parameter: LibTorch's per-operation overhead dominates at these sizes.
  torch::Tensor flat_params, flat_grads;
  bool grads_in_place = true;  // false if autograd did not accumulate into our views
  std::unique_ptr<optim::ControllableOptimizer> optimizer;  // Adam over flat_params
  std::unique_ptr<tbb::task_arena> arena;  // two threads for the update, if configured
  MlpInference actor_fast, critic_fast;
  std::vector<float> std_fast;  // exp(log_std)
  std::vector<float> log_std_fast;

  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> params = actor->parameters();
    for (const auto& p : critic->parameters()) params.push_back(p);
    params.push_back(log_std);
    return params;
  }

  void flatten() {
    torch::NoGradGuard no_grad;
    const std::vector<torch::Tensor> params = parameters();
    int64_t total = 0;
    for (const auto& p : params) total += p.numel();
    flat_params = torch::zeros({total}, torch::kFloat32);
    flat_grads = torch::zeros({total}, torch::kFloat32);
    int64_t offset = 0;
    for (auto p : params) {
      const int64_t n = p.numel();
      flat_params.narrow(0, offset, n).copy_(p.detach().reshape({-1}));
      p.set_data(flat_params.narrow(0, offset, n).view(p.sizes()));
      p.mutable_grad() = flat_grads.narrow(0, offset, n).view(p.sizes());
      offset += n;
    }
    flat_params.mutable_grad() = flat_grads;
  }

  // After backward: make sure flat_grads holds the gradients (autograd accumulates into the
  // existing views; if a LibTorch version replaced them, gather them instead).
  void gather_grads() {
    if (grads_in_place) {
      int64_t offset = 0;
      for (const auto& p : parameters()) {
        if (p.grad().data_ptr() != flat_grads.narrow(0, offset, p.numel()).data_ptr()) grads_in_place = false;
        offset += p.numel();
      }
      if (grads_in_place) return;
    }
    torch::NoGradGuard no_grad;
    int64_t offset = 0;
    for (auto p : parameters()) {
      const int64_t n = p.numel();
      if (p.grad().defined()) flat_grads.narrow(0, offset, n).copy_(p.grad().reshape({-1}));
      p.mutable_grad() = flat_grads.narrow(0, offset, n).view(p.sizes());
      offset += n;
    }
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

PpoLearner::PpoLearner(int obs_dim, int act_dim, const PpoNetworkConfig& network,
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
  m.flatten();
  if (network.update_threads > 1) m.arena = std::make_unique<tbb::task_arena>(2);
  m.optimizer = std::make_unique<optim::ControllableOptimizer>(optim::OptimizerKind::kAdam,
                                                               std::vector<torch::Tensor>{m.flat_params},
                                                               adam_settings());
  m.refresh_inference();
}

PpoLearner::~PpoLearner() = default;

int PpoLearner::obs_dim() const { return impl_->obs_dim; }
int PpoLearner::act_dim() const { return impl_->act_dim; }

void PpoLearner::act(const float* obs, int n, core::Rng& rng, float* actions, float* logprobs,
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

void PpoLearner::act_deterministic(const float* obs, int n, float* actions) {
  auto& m = *impl_;
  for (int i = 0; i < n; ++i) {
    m.actor_fast.forward(obs + static_cast<std::size_t>(i) * m.obs_dim,
                         actions + static_cast<std::size_t>(i) * m.act_dim);
  }
}

const MlpInference& PpoLearner::actor_inference() const { return impl_->actor_fast; }

void PpoLearner::value(const float* obs, int n, float* values) {
  auto& m = *impl_;
  for (int i = 0; i < n; ++i) m.critic_fast.forward(obs + static_cast<std::size_t>(i) * m.obs_dim, values + i);
}

PpoUpdateStats PpoLearner::update(const RolloutBuffer& buffer, const core::Hyperparameters& hp,
                                double learning_rate, core::Rng& rng) {
  auto& m = *impl_;
  check_ppo_hyperparameters(hp);
  m.optimizer->set_lr(learning_rate);
  // eps is fixed when the controllable optimizer is built; PPO lets a controller change it
  // too, so it is written into LibTorch's options directly.
  for (auto& group : m.optimizer->torch_optimizer().param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).eps(hp.get("adam_eps"));
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

  std::vector<int64_t> order(static_cast<std::size_t>(batch));
  std::iota(order.begin(), order.end(), 0);
  PpoUpdateStats stats;
  stats.learning_rate = learning_rate;
  double sum_pg = 0, sum_v = 0, sum_ent = 0, sum_clip = 0;
  int count = 0;

  // Minibatch buffers, gathered from the rollout by index.
  const int a_dim = m.act_dim;
  torch::Tensor mb_obs = torch::empty({minibatch, m.obs_dim}, torch::kFloat32);
  std::vector<float> mb_actions(static_cast<std::size_t>(minibatch * a_dim)), mb_logprob(minibatch),
      mb_adv(minibatch), mb_ret(minibatch), mb_value(minibatch);
  PpoLossInput input;
  input.act_dim = a_dim;
  input.clip_coef = clip_coef;
  input.ent_coef = ent_coef;
  input.vf_coef = vf_coef;
  input.norm_adv = norm_adv;
  input.clip_vloss = clip_vloss;
  PpoLossOutput output;

  for (int epoch = 0; epoch < epochs; ++epoch) {
    rng.shuffle(order.begin(), order.end());
    for (int64_t start = 0; start < batch; start += minibatch) {
      const int64_t size = std::min(batch, start + minibatch) - start;
      torch::Tensor obs = size == minibatch ? mb_obs : torch::empty({size, m.obs_dim}, torch::kFloat32);
      float* obs_ptr = obs.data_ptr<float>();
      for (int64_t k = 0; k < size; ++k) {
        const auto i = static_cast<std::size_t>(order[static_cast<std::size_t>(start + k)]);
        std::copy_n(buffer.obs.data() + i * m.obs_dim, m.obs_dim, obs_ptr + k * m.obs_dim);
        std::copy_n(buffer.actions.data() + i * a_dim, a_dim, mb_actions.data() + k * a_dim);
        mb_logprob[k] = buffer.logprobs[i];
        mb_adv[k] = buffer.advantages[i];
        mb_ret[k] = buffer.returns[i];
        mb_value[k] = buffer.values[i];
      }
      input.batch = static_cast<int>(size);
      input.actions = mb_actions.data();
      input.old_logprob = mb_logprob.data();
      input.advantages = mb_adv.data();
      input.returns = mb_ret.data();
      input.old_value = mb_value.data();

      // The actor's pass (policy loss, backward into the actor and the log-std) and the
      // critic's pass (value loss, backward into the critic) touch disjoint parameters and
      // gradient slices, so with two update threads they run side by side.
      m.flat_grads.zero_();
      const auto actor_pass = [&] {
        const torch::Tensor mean = m.actor->forward(obs);
        PpoLossInput in = input;
        in.mean = mean.data_ptr<float>();
        in.log_std = m.log_std.data_ptr<float>();
        ppo_policy_loss(in, output);
        torch::autograd::backward({mean}, {torch::from_blob(output.d_mean.data(), mean.sizes(), torch::kFloat32)});
        float* g = m.log_std.mutable_grad().data_ptr<float>();
        for (int j = 0; j < a_dim; ++j) g[j] += output.d_log_std[j];
      };
      const auto critic_pass = [&] {
        const torch::Tensor value = m.critic->forward(obs);
        PpoLossInput in = input;
        in.value = value.data_ptr<float>();
        ppo_value_loss(in, output);
        torch::autograd::backward({value}, {torch::from_blob(output.d_value.data(), value.sizes(), torch::kFloat32)});
      };
      if (m.arena) {
        m.arena->execute([&] {
          tbb::task_group group;
          group.run(critic_pass);
          actor_pass();
          group.wait();
        });
      } else {
        actor_pass();
        critic_pass();
      }
      m.gather_grads();
      {
        // Global grad-norm clipping, as torch.nn.utils.clip_grad_norm_ computes it.
        torch::NoGradGuard no_grad;
        const double norm = m.flat_grads.norm().item<double>();
        const double coef = max_grad_norm / (norm + 1e-6);
        if (coef < 1.0) m.flat_grads.mul_(coef);
      }
      m.optimizer->step();

      stats.old_approx_kl = output.old_approx_kl;
      stats.approx_kl = output.approx_kl;
      sum_clip += output.clipfrac;
      sum_pg += output.policy_loss;
      sum_v += output.value_loss;
      sum_ent += output.entropy;
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

void PpoLearner::save(const std::string& path) const {
  const auto& m = *impl_;
  torch::serialize::OutputArchive root, actor, critic, optimizer;
  m.actor->save(actor);
  m.critic->save(critic);
  m.optimizer->save(optimizer);
  root.write("actor", actor);
  root.write("critic", critic);
  root.write("log_std", m.log_std);
  root.write("optimizer", optimizer);
  optim::save_archive(root, path);
}

void PpoLearner::load(const std::string& path) {
  auto& m = *impl_;
  try {
    torch::serialize::InputArchive root, actor, critic, optimizer;
    root.load_from(path);
    root.read("actor", actor);
    root.read("critic", critic);
    root.read("optimizer", optimizer);
    // Read into fresh modules (reading re-points tensors), then copy into the flat buffer.
    at::Generator unused = at::make_generator<at::CPUGeneratorImpl>(0);
    auto actor_in = make_mlp(m.obs_dim, m.network.hidden_sizes, m.act_dim, 1.0, unused);
    auto critic_in = make_mlp(m.obs_dim, m.network.hidden_sizes, 1, 1.0, unused);
    actor_in->load(actor);
    critic_in->load(critic);
    torch::Tensor log_std;
    root.read("log_std", log_std);
    std::vector<torch::Tensor> source = actor_in->parameters();
    for (const auto& p : critic_in->parameters()) source.push_back(p);
    source.push_back(log_std);
    const std::vector<torch::Tensor> target = m.parameters();
    if (source.size() != target.size()) throw std::runtime_error("the networks have a different shape");
    for (std::size_t i = 0; i < source.size(); ++i) {
      if (source[i].sizes() != target[i].sizes()) throw std::runtime_error("the networks have a different shape");
    }
    const torch::Tensor loaded_param = torch::zeros_like(m.flat_params);
    optim::ControllableOptimizer loaded(optim::OptimizerKind::kAdam, std::vector<torch::Tensor>{loaded_param},
                                        adam_settings());
    loaded.load(optimizer);
    {
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < source.size(); ++i) target[i].copy_(source[i]);
    }
    m.optimizer->copy_state_from(loaded);
  } catch (const c10::Error& e) {
    throw core::UserError(path + ": not a valid agent checkpoint (" + e.what_without_backtrace() + ")");
  } catch (const std::exception& e) {
    throw core::UserError(path + ": not a valid agent checkpoint (" + e.what() + ")");
  }
  m.refresh_inference();
}

void PpoLearner::copy_from(const PpoLearner& other) {
  auto& m = *impl_;
  const auto& o = *other.impl_;
  {
    torch::NoGradGuard no_grad;
    m.flat_params.copy_(o.flat_params);
  }
  m.optimizer->copy_state_from(*o.optimizer);
  m.refresh_inference();
}

double PpoLearner::parameter_checksum() const {
  double sum = 0;
  sum = impl_->flat_params.detach().abs().sum().item<double>();
  return sum;
}

}  // namespace graybox::agents
