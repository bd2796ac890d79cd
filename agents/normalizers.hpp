// The observation and reward wrappers of CleanRL's PPO, as plain structs:
// - ObsNormalizer: (obs - mean) / sqrt(var + 1e-8), clipped to +-clip, statistics updated on
//   every batch of observations the agent sees while training (frozen for evaluation).
// - RewardScaler: reward / sqrt(var(G) + 1e-8), clipped to +-clip, where G is each env's running
//   discounted return (G = gamma * G * (1 - terminated) + r).
// One set of statistics is shared by all envs of a VecEnv.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "agents/running_mean_std.hpp"

namespace graybox::agents {

struct ObsNormalizer {
  RunningMeanStd rms;
  double clip = 10.0;
  bool enabled = true;

  ObsNormalizer() = default;
  ObsNormalizer(std::size_t dim, double clip_value, bool on) : rms(dim), clip(clip_value), enabled(on) {}

  void update(const double* rows, std::size_t n) {
    if (enabled) rms.update(rows, n);
  }
  // Writes n normalised rows as floats.
  void normalize(const double* rows, std::size_t n, float* out) const {
    const std::size_t dim = rms.mean.size();
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < dim; ++j) {
        double x = rows[i * dim + j];
        if (enabled) x = std::clamp((x - rms.mean[j]) / std::sqrt(rms.var[j] + 1e-8), -clip, clip);
        out[i * dim + j] = static_cast<float>(x);
      }
    }
  }
};

struct RewardScaler {
  RunningMeanStd rms{1};
  std::vector<double> returns;  // one running discounted return per env
  double clip = 10.0;
  bool enabled = true;

  RewardScaler() = default;
  RewardScaler(std::size_t num_envs, double clip_value, bool on)
      : returns(num_envs, 0.0), clip(clip_value), enabled(on) {}

  // Scales rewards in place (one per env); terminated flags reset the running returns.
  void scale(double* rewards, const std::uint8_t* terminated, double gamma) {
    if (!enabled) return;
    for (std::size_t i = 0; i < returns.size(); ++i) {
      returns[i] = returns[i] * gamma * (terminated[i] ? 0.0 : 1.0) + rewards[i];
    }
    rms.update(returns.data(), returns.size());
    const double scale = std::sqrt(rms.var[0] + 1e-8);
    for (std::size_t i = 0; i < returns.size(); ++i) {
      rewards[i] = std::clamp(rewards[i] / scale, -clip, clip);
    }
  }
};

}  // namespace graybox::agents
