// The replay buffer of SAC and TD3 (CleanRL's stable-baselines3 ReplayBuffer): a ring of
// `capacity` transitions, preallocated as float32 structure-of-arrays (obs, next_obs, actions,
// rewards, dones). next_obs is the episode's final observation where an episode was truncated
// (the env has already reset), and dones holds termination only, so a truncated episode is
// bootstrapped. Saved to a binary file (header, then the filled rows of each array).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"

namespace graybox::agents {

class ReplayBuffer {
 public:
  ReplayBuffer() = default;
  ReplayBuffer(std::int64_t capacity, int obs_dim, int act_dim);

  // Adds n transitions (one per env): obs and actions are the acted-on rows; next_obs the envs'
  // observations after the step, replaced by final_obs where truncated.
  void add(int n, const double* obs, const double* actions, const double* rewards, const double* next_obs,
           const double* final_obs, const std::uint8_t* terminated, const std::uint8_t* truncated);

  // Fills `indices` with `batch` uniform draws from the filled rows (with replacement, as SB3).
  void sample_indices(int batch, core::Rng& rng, std::vector<std::int64_t>& indices) const;
  // Gathers the rows of `indices` into contiguous arrays (batch x dim).
  void gather(const std::vector<std::int64_t>& indices, float* obs, float* actions, float* rewards,
              float* next_obs, float* dones) const;

  std::int64_t size() const { return size_; }
  std::int64_t capacity() const { return capacity_; }
  int obs_dim() const { return obs_dim_; }
  int act_dim() const { return act_dim_; }
  void clear() { size_ = pos_ = 0; }

  // Throws core::UserError naming the file for a missing, truncated or mismatched one.
  void save(const std::string& path) const;
  void load(const std::string& path);

  bool operator==(const ReplayBuffer& other) const;

 private:
  std::int64_t capacity_ = 0, size_ = 0, pos_ = 0;
  int obs_dim_ = 0, act_dim_ = 0;
  std::vector<float> obs_, next_obs_, actions_, rewards_, dones_;
};

}  // namespace graybox::agents
