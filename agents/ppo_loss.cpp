#include "agents/ppo_loss.hpp"

#include <algorithm>
#include <cmath>

#include "core/normal.hpp"

namespace graybox::agents {
namespace {

using core::kLogSqrt2Pi;

// d max(u, w) split as LibTorch's maximum() splits it: all to the larger, half each on a tie.
inline void max_split(double u, double w, double& du, double& dw) {
  if (u > w) {
    du = 1.0, dw = 0.0;
  } else if (u < w) {
    du = 0.0, dw = 1.0;
  } else {
    du = 0.5, dw = 0.5;
  }
}

}  // namespace

void ppo_policy_loss(const PpoLossInput& in, PpoLossOutput& out) {
  const int n = in.batch, a_dim = in.act_dim;
  const double c = in.clip_coef;
  out.d_mean.assign(static_cast<std::size_t>(n) * a_dim, 0.0f);
  out.d_log_std.assign(static_cast<std::size_t>(a_dim), 0.0f);

  // Advantage normalisation: (adv - mean) / (unbiased std + 1e-8), as torch's std().
  double adv_mean = 0.0, adv_std = 0.0;
  if (in.norm_adv) {
    for (int i = 0; i < n; ++i) adv_mean += in.advantages[i];
    adv_mean /= n;
    double sq = 0.0;
    for (int i = 0; i < n; ++i) sq += (in.advantages[i] - adv_mean) * (in.advantages[i] - adv_mean);
    adv_std = n > 1 ? std::sqrt(sq / (n - 1)) : 0.0;
  }

  std::vector<double> inv_var(static_cast<std::size_t>(a_dim));
  double entropy = 0.0;
  for (int j = 0; j < a_dim; ++j) {
    inv_var[j] = std::exp(-2.0 * in.log_std[j]);
    entropy += 0.5 + kLogSqrt2Pi + in.log_std[j];
  }

  std::vector<double> d_log_std(static_cast<std::size_t>(a_dim), 0.0);
  double pg_sum = 0.0, old_kl = 0.0, kl = 0.0, clipped = 0.0;
  for (int i = 0; i < n; ++i) {
    const float* mu = in.mean + static_cast<std::size_t>(i) * a_dim;
    const float* act = in.actions + static_cast<std::size_t>(i) * a_dim;
    double logprob = 0.0;
    for (int j = 0; j < a_dim; ++j) {
      const double diff = static_cast<double>(act[j]) - mu[j];
      logprob += -0.5 * diff * diff * inv_var[j] - in.log_std[j] - kLogSqrt2Pi;
    }
    const double logratio = logprob - in.old_logprob[i];
    const double ratio = std::exp(logratio);
    old_kl += -logratio;
    kl += (ratio - 1.0) - logratio;
    if (std::fabs(ratio - 1.0) > c) clipped += 1.0;

    // Clipped surrogate: max(-adv * r, -adv * clip(r, 1-c, 1+c)).
    const double adv = in.norm_adv ? (in.advantages[i] - adv_mean) / (adv_std + 1e-8) : in.advantages[i];
    const double clipped_ratio = std::clamp(ratio, 1.0 - c, 1.0 + c);
    const double u = -adv * ratio, w = -adv * clipped_ratio;
    pg_sum += std::max(u, w);
    double du, dw;
    max_split(u, w, du, dw);
    const double in_range = (ratio >= 1.0 - c && ratio <= 1.0 + c) ? 1.0 : 0.0;
    const double d_ratio = (du * -adv + dw * -adv * in_range) / n;
    const double d_logprob = d_ratio * ratio;
    for (int j = 0; j < a_dim; ++j) {
      const double diff = static_cast<double>(act[j]) - mu[j];
      out.d_mean[static_cast<std::size_t>(i) * a_dim + j] = static_cast<float>(d_logprob * diff * inv_var[j]);
      d_log_std[j] += d_logprob * (diff * diff * inv_var[j] - 1.0);
    }
  }
  // The entropy bonus: d(-ent_coef * entropy)/d log_std_j = -ent_coef.
  for (int j = 0; j < a_dim; ++j) out.d_log_std[j] = static_cast<float>(d_log_std[j] - in.ent_coef);
  out.policy_loss = pg_sum / n;
  out.entropy = entropy;
  out.old_approx_kl = old_kl / n;
  out.approx_kl = kl / n;
  out.clipfrac = clipped / n;
}

void ppo_value_loss(const PpoLossInput& in, PpoLossOutput& out) {
  const int n = in.batch;
  const double c = in.clip_coef;
  out.d_value.assign(static_cast<std::size_t>(n), 0.0f);
  double v_sum = 0.0;
  for (int i = 0; i < n; ++i) {
    // Clipped around the rollout's value as the surrogate is clipped around ratio 1.
    const double v = in.value[i], ret = in.returns[i];
    double d_v;
    if (in.clip_vloss) {
      const double old_v = in.old_value[i];
      const double v_clipped = old_v + std::clamp(v - old_v, -c, c);
      const double lu = (v - ret) * (v - ret), lw = (v_clipped - ret) * (v_clipped - ret);
      v_sum += std::max(lu, lw);
      double dlu, dlw;
      max_split(lu, lw, dlu, dlw);
      const double v_in_range = (v - old_v >= -c && v - old_v <= c) ? 1.0 : 0.0;
      d_v = dlu * 2.0 * (v - ret) + dlw * 2.0 * (v_clipped - ret) * v_in_range;
    } else {
      v_sum += (v - ret) * (v - ret);
      d_v = 2.0 * (v - ret);
    }
    out.d_value[i] = static_cast<float>(in.vf_coef * 0.5 * d_v / n);
  }
  out.value_loss = 0.5 * v_sum / n;
}

void ppo_loss(const PpoLossInput& in, PpoLossOutput& out) {
  ppo_policy_loss(in, out);
  ppo_value_loss(in, out);
  out.loss = out.policy_loss - in.ent_coef * out.entropy + in.vf_coef * out.value_loss;
}

}  // namespace graybox::agents
