#include "agents/twin_critic_pass.hpp"

#include <algorithm>

namespace graybox::agents {

TwinCriticPass::TwinCriticPass(const torch::nn::Sequential& qf1, const torch::nn::Sequential& qf2,
                               const torch::nn::Sequential& qf1_target, const torch::nn::Sequential& qf2_target,
                               int obs_dim, int act_dim)
    : qf1_(qf1), qf2_(qf2), qf1_target_(qf1_target), qf2_target_(qf2_target), obs_dim_(obs_dim), act_dim_(act_dim) {}

const float* TwinCriticPass::join(const float* obs, const float* actions, int batch) {
  const int width = obs_dim_ + act_dim_;
  in_.resize(static_cast<std::size_t>(batch) * width);
  for (int r = 0; r < batch; ++r) {
    float* row = in_.data() + static_cast<std::size_t>(r) * width;
    std::copy_n(obs + static_cast<std::size_t>(r) * obs_dim_, obs_dim_, row);
    std::copy_n(actions + static_cast<std::size_t>(r) * act_dim_, act_dim_, row + obs_dim_);
  }
  batch_ = batch;
  return in_.data();
}

const float* TwinCriticPass::target_minimum(const float* next_obs, const float* next_actions, int batch) {
  const float* in = join(next_obs, next_actions, batch);
  const float* a = qf1_target_.forward(in, batch);
  const float* b = qf2_target_.forward(in, batch);
  minimum_.resize(static_cast<std::size_t>(batch));
  for (int r = 0; r < batch; ++r) minimum_[r] = std::min(a[r], b[r]);
  return minimum_.data();
}

TwinCriticPass::Fit TwinCriticPass::fit(const float* obs, const float* actions, const float* y, int batch) {
  const float* in = join(obs, actions, batch);
  const float* q1 = qf1_.forward(in, batch);
  const float* q2 = qf2_.forward(in, batch);
  // mse_loss's gradient: 2 (q - y) / batch.
  dq1_.resize(static_cast<std::size_t>(batch));
  dq2_.resize(static_cast<std::size_t>(batch));
  Fit fit;
  const float scale = 2.0f / static_cast<float>(batch);
  for (int r = 0; r < batch; ++r) {
    const float e1 = q1[r] - y[r], e2 = q2[r] - y[r];
    fit.qf1_loss += static_cast<double>(e1) * e1;
    fit.qf2_loss += static_cast<double>(e2) * e2;
    fit.qf1_values += q1[r];
    fit.qf2_values += q2[r];
    dq1_[r] = scale * e1;
    dq2_[r] = scale * e2;
  }
  fit.qf1_loss /= batch;
  fit.qf2_loss /= batch;
  fit.qf1_values /= batch;
  fit.qf2_values /= batch;
  qf1_.backward(dq1_.data(), /*weight_grads=*/true, /*input_grad=*/false);
  qf2_.backward(dq2_.data(), /*weight_grads=*/true, /*input_grad=*/false);
  return fit;
}

TwinCriticPass::Values TwinCriticPass::values(const float* obs, const float* actions, int batch, bool both) {
  const float* in = join(obs, actions, batch);
  Values v;
  v.q1 = qf1_.forward(in, batch);
  if (both) v.q2 = qf2_.forward(in, batch);
  return v;
}

const float* TwinCriticPass::action_gradient(const float* dq1, const float* dq2) {
  const int width = obs_dim_ + act_dim_;
  da_.assign(static_cast<std::size_t>(batch_) * act_dim_, 0.0f);
  for (int k = 0; k < (dq2 ? 2 : 1); ++k) {
    const float* d_in = (k == 0 ? qf1_ : qf2_).backward(k == 0 ? dq1 : dq2, /*weight_grads=*/false, /*input_grad=*/true);
    for (int r = 0; r < batch_; ++r) {
      const float* from = d_in + static_cast<std::size_t>(r) * width + obs_dim_;
      float* to = da_.data() + static_cast<std::size_t>(r) * act_dim_;
      for (int j = 0; j < act_dim_; ++j) to[j] += from[j];
    }
  }
  return da_.data();
}

}  // namespace graybox::agents
