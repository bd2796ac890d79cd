#include "agents/ppo_loss.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.hpp"

namespace graybox::agents {
namespace {

struct Case {
  int n = 8, a = 3;
  std::vector<float> mean, log_std, value, actions, old_logprob, adv, ret, old_value;
  explicit Case(std::uint64_t seed, double spread = 0.05) {
    core::Rng rng(seed);
    const auto fill = [&](std::vector<float>& v, std::size_t size, double scale, double offset = 0.0) {
      v.resize(size);
      for (auto& x : v) x = static_cast<float>(offset + scale * rng.normal());
    };
    fill(mean, static_cast<std::size_t>(n * a), 0.5);
    fill(log_std, static_cast<std::size_t>(a), 0.2, -0.3);
    fill(value, static_cast<std::size_t>(n), 1.0);
    fill(actions, static_cast<std::size_t>(n * a), 1.0);
    fill(adv, static_cast<std::size_t>(n), 1.0);
    fill(ret, static_cast<std::size_t>(n), 1.0);
    old_value.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) old_value[i] = static_cast<float>(value[i] + 0.05 * rng.normal());
    // Old log-probs close to the current ones, so ratios sit near 1 (inside the clip range).
    old_logprob.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      double lp = 0;
      for (int j = 0; j < a; ++j) {
        const double d = actions[i * a + j] - mean[i * a + j];
        lp += -0.5 * d * d * std::exp(-2.0 * log_std[j]) - log_std[j] - 0.91893853320467274178;
      }
      old_logprob[i] = static_cast<float>(lp + spread * rng.normal());
    }
  }
  PpoLossInput input() const {
    PpoLossInput in;
    in.batch = n;
    in.act_dim = a;
    in.mean = mean.data();
    in.log_std = log_std.data();
    in.value = value.data();
    in.actions = actions.data();
    in.old_logprob = old_logprob.data();
    in.advantages = adv.data();
    in.returns = ret.data();
    in.old_value = old_value.data();
    in.ent_coef = 0.01;
    return in;
  }
};

double loss_of(const Case& c, bool clip_vloss = true) {
  PpoLossInput in = c.input();
  in.clip_vloss = clip_vloss;
  PpoLossOutput out;
  ppo_loss(in, out);
  return out.loss;
}

// Central differences in float inputs: a step of 1e-3 keeps rounding error well below the
// tolerance while staying clear of the clipping kinks for these inputs.
void expect_gradient(Case c, std::vector<float> Case::*field, const std::vector<float> PpoLossOutput::*grad,
                     bool clip_vloss) {
  PpoLossInput in = c.input();
  in.clip_vloss = clip_vloss;
  PpoLossOutput out;
  ppo_loss(in, out);
  const double h = 1e-3;
  for (std::size_t k = 0; k < (c.*field).size(); ++k) {
    Case plus = c, minus = c;
    (plus.*field)[k] += static_cast<float>(h);
    (minus.*field)[k] -= static_cast<float>(h);
    const double step = static_cast<double>((plus.*field)[k]) - (minus.*field)[k];
    const double numeric = (loss_of(plus, clip_vloss) - loss_of(minus, clip_vloss)) / step;
    EXPECT_NEAR((out.*grad)[k], numeric, 2e-4 + 1e-3 * std::fabs(numeric)) << "element " << k;
  }
}

TEST(PpoLoss, GradientsMatchFiniteDifferences) {
  for (const bool clip_vloss : {true, false}) {
    const Case c(1);
    expect_gradient(c, &Case::mean, &PpoLossOutput::d_mean, clip_vloss);
    expect_gradient(c, &Case::log_std, &PpoLossOutput::d_log_std, clip_vloss);
    expect_gradient(c, &Case::value, &PpoLossOutput::d_value, clip_vloss);
  }
}

TEST(PpoLoss, RatioOfOneGivesMinusMeanNormalisedAdvantage) {
  Case c(2, 0.0);  // old log-probs equal the current ones: every ratio is 1
  PpoLossInput in = c.input();
  PpoLossOutput out;
  ppo_loss(in, out);
  // With normalised advantages (mean 0), the surrogate at ratio 1 is -mean(adv_norm) = 0.
  EXPECT_NEAR(out.policy_loss, 0.0, 1e-6);
  EXPECT_NEAR(out.approx_kl, 0.0, 1e-6);
  EXPECT_EQ(out.clipfrac, 0.0);
  // Entropy of a diagonal Gaussian: sum_j (0.5 + log sqrt(2 pi) + log_std_j).
  double entropy = 0;
  for (const float ls : c.log_std) entropy += 0.5 + 0.91893853320467274178 + ls;
  EXPECT_NEAR(out.entropy, entropy, 1e-9);
}

TEST(PpoLoss, ClippedRatiosStopTheGradient) {
  Case c(3, 0.0);
  for (auto& lp : c.old_logprob) lp -= 1.0f;  // ratio e ~ 2.7, far above 1 + clip
  for (auto& a : c.adv) a = std::fabs(a) + 0.1f;  // positive advantages (before normalisation)
  PpoLossInput in = c.input();
  in.norm_adv = false;
  in.ent_coef = 0.0;
  PpoLossOutput out;
  ppo_loss(in, out);
  EXPECT_EQ(out.clipfrac, 1.0);
  for (const float g : out.d_mean) EXPECT_EQ(g, 0.0f);
  // The clipped surrogate is -adv * (1 + clip).
  double expected = 0;
  for (const float a : c.adv) expected += -a * 1.2;
  EXPECT_NEAR(out.policy_loss, expected / c.n, 1e-6);
}

TEST(PpoLoss, ValueLossHandComputed) {
  Case c(4);
  c.n = 2;
  c.value = {1.0f, 0.0f};
  c.old_value = {0.0f, 0.0f};
  c.ret = {0.0f, 2.0f};
  PpoLossInput in = c.input();
  PpoLossOutput out;
  ppo_loss(in, out);
  // Sample 0: unclipped (1-0)^2 = 1; clipped (0 + 0.2 - 0)^2 = 0.04; max 1.
  // Sample 1: unclipped (0-2)^2 = 4; clipped (0 + 0 - 2)^2 = 4; max 4.
  EXPECT_NEAR(out.value_loss, 0.5 * (1.0 + 4.0) / 2, 1e-9);
  EXPECT_NEAR(out.d_value[0], 0.5 * 0.5 * 2.0 * 1.0 / 2, 1e-7);
}

}  // namespace
}  // namespace graybox::agents
