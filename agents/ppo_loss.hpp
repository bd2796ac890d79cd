// PPO's loss for one minibatch and its gradient with respect to the network outputs (the
// action mean, the log-std and the value), in plain loops. This is CleanRL's loss term for
// term: clipped surrogate, clipped value loss, entropy bonus, per-minibatch advantage
// normalisation. The networks themselves are trained by LibTorch: these gradients are fed to
// the networks' autograd graphs (see ppo.cpp), replacing some forty tiny tensor operations whose
// fixed per-operation cost dominated the update at minibatch sizes around 64.
#pragma once

#include <vector>

namespace graybox::agents {

struct PpoLossInput {
  int batch = 0, act_dim = 0;
  // Network outputs.
  const float* mean = nullptr;     // [batch, act_dim]
  const float* log_std = nullptr;  // [act_dim]
  const float* value = nullptr;    // [batch]
  // The minibatch's rollout data.
  const float* actions = nullptr;      // [batch, act_dim]
  const float* old_logprob = nullptr;  // [batch]
  const float* advantages = nullptr;   // [batch], before normalisation
  const float* returns = nullptr;      // [batch]
  const float* old_value = nullptr;    // [batch]
  double clip_coef = 0.2, ent_coef = 0.0, vf_coef = 0.5;
  bool norm_adv = true, clip_vloss = true;
};

struct PpoLossOutput {
  double loss = 0, policy_loss = 0, value_loss = 0, entropy = 0;
  double old_approx_kl = 0, approx_kl = 0, clipfrac = 0;
  std::vector<float> d_mean, d_log_std, d_value;  // d loss / d output
};

// The policy terms (surrogate and entropy: fills d_mean, d_log_std, policy_loss, entropy,
// the KL estimates and clipfrac) and the value term (fills d_value and value_loss) are
// independent, so the actor's and the critic's passes can run side by side.
void ppo_policy_loss(const PpoLossInput& in, PpoLossOutput& out);
void ppo_value_loss(const PpoLossInput& in, PpoLossOutput& out);
// Both, and the total loss.
void ppo_loss(const PpoLossInput& in, PpoLossOutput& out);

}  // namespace graybox::agents
