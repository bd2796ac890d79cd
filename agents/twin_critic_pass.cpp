#include "agents/twin_critic_pass.hpp"

#include <ATen/Parallel.h>

#include <algorithm>

namespace graybox::agents {

TwinCriticPass::TwinCriticPass(const torch::nn::Sequential& qf1, const torch::nn::Sequential& qf2,
                               const torch::nn::Sequential& qf1_target, const torch::nn::Sequential& qf2_target,
                               int obs_dim, int act_dim)
    : critics_{MlpPass(qf1), MlpPass(qf2)},
      targets_{MlpPass(qf1_target), MlpPass(qf2_target)},
      obs_dim_(obs_dim),
      act_dim_(act_dim) {}

template <typename F>
void TwinCriticPass::for_both(F&& f) {
  const bool side_by_side = at::get_num_threads() > 1 && !at::in_parallel_region();
#pragma omp parallel for num_threads(2) schedule(static, 1) if (side_by_side)
  for (int k = 0; k < 2; ++k) f(k);
}

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
  const float* q[2];
  for_both([&](int k) { q[k] = targets_[k].forward(in, batch); });
  minimum_.resize(static_cast<std::size_t>(batch));
  for (int r = 0; r < batch; ++r) minimum_[r] = std::min(q[0][r], q[1][r]);
  return minimum_.data();
}

TwinCriticPass::Fit TwinCriticPass::fit(const float* obs, const float* actions, const float* y, int batch) {
  const float* in = join(obs, actions, batch);
  double loss[2] = {0, 0}, mean[2] = {0, 0};
  // mse_loss's gradient: 2 (q - y) / batch.
  const float scale = 2.0f / static_cast<float>(batch);
  for_both([&](int k) {
    const float* q = critics_[k].forward(in, batch);
    std::vector<float>& d = d_q_[k];
    d.resize(static_cast<std::size_t>(batch));
    for (int r = 0; r < batch; ++r) {
      const float e = q[r] - y[r];
      loss[k] += static_cast<double>(e) * e;
      mean[k] += q[r];
      d[r] = scale * e;
    }
    critics_[k].backward(d.data(), /*weight_grads=*/true, /*input_grad=*/false);
  });
  Fit fit;
  fit.qf1_loss = loss[0] / batch;
  fit.qf2_loss = loss[1] / batch;
  fit.qf1_values = mean[0] / batch;
  fit.qf2_values = mean[1] / batch;
  return fit;
}

TwinCriticPass::Values TwinCriticPass::values(const float* obs, const float* actions, int batch, bool both) {
  const float* in = join(obs, actions, batch);
  Values v;
  if (!both) {
    v.q1 = critics_[0].forward(in, batch);
    return v;
  }
  const float* q[2];
  for_both([&](int k) { q[k] = critics_[k].forward(in, batch); });
  v.q1 = q[0];
  v.q2 = q[1];
  return v;
}

const float* TwinCriticPass::action_gradient(const float* dq1, const float* dq2) {
  const int width = obs_dim_ + act_dim_;
  const float* d_q[2] = {dq1, dq2};
  if (dq2) {
    for_both([&](int k) { d_in_[k] = critics_[k].backward(d_q[k], /*weight_grads=*/false, /*input_grad=*/true); });
  } else {
    d_in_[0] = critics_[0].backward(dq1, /*weight_grads=*/false, /*input_grad=*/true);
  }
  da_.assign(static_cast<std::size_t>(batch_) * act_dim_, 0.0f);
  for (int k = 0; k < (dq2 ? 2 : 1); ++k) {
    for (int r = 0; r < batch_; ++r) {
      const float* from = d_in_[k] + static_cast<std::size_t>(r) * width + obs_dim_;
      float* to = da_.data() + static_cast<std::size_t>(r) * act_dim_;
      for (int j = 0; j < act_dim_; ++j) to[j] += from[j];
    }
  }
  return da_.data();
}

}  // namespace graybox::agents
