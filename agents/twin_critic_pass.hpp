// SAC's and TD3's twin critics in their hand-written update: the target networks' minimum for
// the TD target, the critics' mean-squared-error step, and the gradient of the critics with
// respect to the action for the actor's loss. One implementation for both algorithms, over
// MlpPass (agents/mlp_pass.hpp). With two or more LibTorch threads the two critics run side by
// side, one thread each (an OpenMP region, inside which BLAS runs single-threaded): the GEMMs
// at these shapes scale poorly over two threads, two independent networks do not. Includes
// LibTorch: include it only from .cpp files that already use torch.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "agents/mlp_pass.hpp"

namespace graybox::agents {

class TwinCriticPass {
 public:
  TwinCriticPass(const torch::nn::Sequential& qf1, const torch::nn::Sequential& qf2,
                 const torch::nn::Sequential& qf1_target, const torch::nn::Sequential& qf2_target, int obs_dim,
                 int act_dim);

  // min(Q1'(s', a'), Q2'(s', a')) per row: [batch].
  const float* target_minimum(const float* next_obs, const float* next_actions, int batch);

  struct Fit {
    double qf1_loss = 0, qf2_loss = 0, qf1_values = 0, qf2_values = 0;
  };
  // Both critics at (obs, actions) against the TD target y [batch]: the losses, the mean Q
  // values, and the gradient of qf1_loss + qf2_loss set in the critics' parameters.
  Fit fit(const float* obs, const float* actions, const float* y, int batch);

  // Q1 and (with both) Q2 at (obs, actions), [batch] each (q2 nullptr without both), keeping
  // what action_gradient needs.
  struct Values {
    const float* q1 = nullptr;
    const float* q2 = nullptr;
  };
  Values values(const float* obs, const float* actions, int batch, bool both);
  // dL/da [batch, act_dim] given dL/dQ1 (and dL/dQ2, or nullptr) at the last values call; the
  // critics' parameters get no gradient (the actor's loss does not train them).
  const float* action_gradient(const float* dq1, const float* dq2);

 private:
  const float* join(const float* obs, const float* actions, int batch);  // [obs, actions] rows
  // f(0) and f(1), side by side when LibTorch has two threads and this is not already in a
  // parallel region.
  template <typename F>
  void for_both(F&& f);

  MlpPass critics_[2], targets_[2];
  int obs_dim_, act_dim_, batch_ = 0;
  std::vector<float> in_, minimum_, d_q_[2], da_;
  const float* d_in_[2] = {nullptr, nullptr};
};

}  // namespace graybox::agents
