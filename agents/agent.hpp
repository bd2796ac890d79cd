// Agent: the learner that RlTask drives, whatever its algorithm (PPO, SAC, TD3). Per vector step
// RlTask asks it for actions on the current observations, steps the envs, hands it the
// transition, and runs an update when one is due; after each iteration it reports the metrics of
// its updates (CleanRL's names) to a core::MetricSink. Hyperparameters are passed in at every
// call that uses them, so a controller's change takes effect at the next update. save, load and
// copy_state_from cover the complete state: networks, optimizer moments, normaliser statistics,
// buffers, counters and the random stream.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/hyperparameters.hpp"
#include "core/trainable.hpp"

namespace graybox::agents {

// What the envs returned after one action of each of n envs (after their automatic resets).
struct Transition {
  int n = 0;
  const double* obs = nullptr;        // next observations, n x obs_dim (a new episode's first where one ended)
  const double* final_obs = nullptr;  // n x obs_dim: an ended episode's last observation
  const double* rewards = nullptr;    // n
  const std::uint8_t* terminated = nullptr;
  const std::uint8_t* truncated = nullptr;
};

// The task's counters at an update.
struct UpdateContext {
  std::int64_t global_step = 0;  // env steps so far, all envs together, this step's included
  std::int64_t total_steps = 0;  // the run's planned env steps
};

class Agent {
 public:
  virtual ~Agent() = default;

  // Throws std::invalid_argument naming the key for a value the algorithm cannot use.
  virtual void check_hyperparameters(const core::Hyperparameters& hp) const = 0;
  // Vector steps (one action per env) in one iteration: PPO's rollout, an off-policy agent's
  // report interval.
  virtual std::int64_t iteration_steps(const core::Hyperparameters& hp) const = 0;

  // The first observations of the envs (after the first reset).
  virtual void begin(const double* obs, int n) = 0;
  // Exploration actions for the n current observations (n x obs_dim), in env units within the
  // action bounds (n x act_dim).
  virtual void act(const double* obs, int n, const core::Hyperparameters& hp, double* actions) = 0;
  // The deterministic action (evaluation), within the action bounds; changes no state.
  virtual void act_deterministic(const double* obs, int n, double* actions) = 0;
  // The result of the last act()'s actions.
  virtual void observe(const Transition& transition, const core::Hyperparameters& hp) = 0;
  virtual bool update_due(const core::Hyperparameters& hp) const = 0;
  // One update. Returns false when a loss or parameter became non-finite (see divergence()).
  virtual bool update(const core::Hyperparameters& hp, const UpdateContext& context) = 0;
  // What went non-finite, for the "diverged" event.
  virtual std::string divergence() const = 0;
  // The metrics of the updates since the last report, at env step `step`.
  virtual void report(std::int64_t step, core::MetricSink& sink) = 0;

  // A new stream for action noise, minibatches and replay samples.
  virtual void reseed(std::uint64_t seed) = 0;
  // Binary state (networks, optimizer, replay buffer) into files under `dir`; small state
  // (statistics, counters, the random stream) into `state`. load throws core::UserError naming
  // the file for a missing or invalid one.
  virtual void save(const std::string& dir, nlohmann::json& state) const = 0;
  virtual void load(const std::string& dir, const nlohmann::json& state) = 0;
  // In memory; throws std::invalid_argument for an agent of another algorithm or shape.
  virtual void copy_state_from(const Agent& other) = 0;
  // Sum of |w| over every trained parameter (for tests and the divergence check).
  virtual double parameter_checksum() const = 0;
};

}  // namespace graybox::agents
