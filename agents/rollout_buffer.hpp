// The rollout of one PPO iteration: num_steps x num_envs transitions, stored flat as float
// (row t * num_envs + e), and the advantages and returns computed from it by GAE.
#pragma once

#include <cstdint>
#include <vector>

namespace graybox::agents {

struct RolloutBuffer {
  int num_steps = 0, num_envs = 0, obs_dim = 0, act_dim = 0;
  std::vector<float> obs;       // normalised observations, [T*N, obs_dim]
  std::vector<float> actions;   // sampled (unclipped) actions, [T*N, act_dim]
  std::vector<float> logprobs;  // [T*N]
  std::vector<float> rewards;   // scaled rewards, [T*N]
  std::vector<float> dones;     // 1 if the observation at t starts a new episode, [T*N]
  std::vector<float> values;    // [T*N]
  std::vector<float> advantages, returns;  // filled by compute_gae

  void resize(int steps, int envs, int obs_size, int act_size) {
    num_steps = steps;
    num_envs = envs;
    obs_dim = obs_size;
    act_dim = act_size;
    const std::size_t n = static_cast<std::size_t>(steps) * static_cast<std::size_t>(envs);
    obs.assign(n * static_cast<std::size_t>(obs_size), 0.0f);
    actions.assign(n * static_cast<std::size_t>(act_size), 0.0f);
    logprobs.assign(n, 0.0f);
    rewards.assign(n, 0.0f);
    dones.assign(n, 0.0f);
    values.assign(n, 0.0f);
    advantages.assign(n, 0.0f);
    returns.assign(n, 0.0f);
  }

  std::size_t size() const { return logprobs.size(); }

  // CleanRL's GAE: next_value and next_done describe the observation after the last step.
  void compute_gae(const std::vector<float>& next_value, const std::vector<float>& next_done,
                   double gamma, double gae_lambda) {
    std::vector<double> last(static_cast<std::size_t>(num_envs), 0.0);
    for (int t = num_steps - 1; t >= 0; --t) {
      for (int e = 0; e < num_envs; ++e) {
        const std::size_t i = static_cast<std::size_t>(t) * num_envs + e;
        double next_nonterminal, next_values;
        if (t == num_steps - 1) {
          next_nonterminal = 1.0 - next_done[e];
          next_values = next_value[e];
        } else {
          next_nonterminal = 1.0 - dones[i + num_envs];
          next_values = values[i + num_envs];
        }
        const double delta = rewards[i] + gamma * next_values * next_nonterminal - values[i];
        last[e] = delta + gamma * gae_lambda * next_nonterminal * last[e];
        advantages[i] = static_cast<float>(last[e]);
        returns[i] = static_cast<float>(last[e] + values[i]);
      }
    }
  }
};

}  // namespace graybox::agents
