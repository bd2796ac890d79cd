// VecEnv: N envs of one task stepped together, each with its own random stream derived from
// the seed, in parallel on TBB. Finished episodes reset automatically; the final observation of
// a finished episode is kept so that a truncated episode can be bootstrapped.
// Results do not depend on the number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envs/env.hpp"

namespace graybox::envs {

struct EpisodeEnd {
  int env_index = 0;
  double episode_return = 0.0;
  std::int64_t episode_length = 0;
  bool terminated = false;
  bool truncated = false;
  bool unstable = false;
};

struct VecStepResult {
  std::vector<double> obs;        // num_envs * obs_dim: the next observation (after auto-reset)
  std::vector<double> final_obs;  // num_envs * obs_dim: the last observation of an episode that
                                  // ended at this step (valid where terminated or truncated)
  std::vector<double> rewards;    // num_envs
  std::vector<std::uint8_t> terminated, truncated;  // num_envs
  std::vector<EpisodeEnd> episodes;  // episodes that ended at this step, by env index
};

class VecEnv {
 public:
  // num_threads <= 0: as many as TBB offers; 1: step sequentially on the caller's thread.
  VecEnv(const std::string& id, const EnvOptions& options, int num_envs, std::uint64_t seed,
         int num_threads = 1);
  ~VecEnv();

  const EnvSpec& spec() const;
  int num_envs() const;

  // Resets every env (env i seeded with derive_seed(seed, Stream::kEnv, i)).
  const std::vector<double>& reset();
  // actions: num_envs * act_dim values.
  const VecStepResult& step(const std::vector<double>& actions);
  const std::vector<double>& observations() const;

  // Counted over the VecEnv's lifetime.
  std::int64_t unstable_episodes() const;

  Env& env(int index);

  std::vector<EnvState> state() const;
  void set_state(const std::vector<EnvState>& states);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace graybox::envs
