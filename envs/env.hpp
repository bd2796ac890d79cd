// Env: one environment with Gymnasium semantics (reset with a seed; step -> observation,
// reward, terminated, truncated). Observations and actions are plain double arrays owned by
// the caller, so stepping allocates nothing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace graybox::envs {

// What every env declares, the same fields for every task.
struct EnvSpec {
  std::string id;                 // e.g. "Hopper-v5"
  int obs_dim = 0;
  int act_dim = 0;
  std::vector<double> act_low;    // the action space bounds (actuator ctrlrange)
  std::vector<double> act_high;
  double dt = 0.0;                // seconds per env step = timestep * frame_skip
  int frame_skip = 1;
  int max_episode_steps = 1000;   // truncation by the time limit
  double reward_threshold = 0.0;  // the return at which the task counts as solved
};

// One reward term of the last step, e.g. {"forward", 1.3} or {"ctrl_cost", -0.02}.
// Convention: costs are negative contributions, so the terms of a step sum to its reward.
// On a step flagged unstable every term is 0 (as is the reward).
using RewardTerms = std::vector<std::pair<std::string, double>>;

struct StepResult {
  double reward = 0.0;
  bool terminated = false;  // the task ended (fell over); do not bootstrap
  bool truncated = false;   // time limit or an unstable simulation; bootstrap from the obs
  bool unstable = false;    // non-finite action or state, or a MuJoCo warning: counted, logged
};

// Options a user can set under `env.` in a config.
struct EnvOptions {
  std::string model_path;                // empty: the model shipped with graybox
  std::map<std::string, double> params;  // task parameters (reward weights, noise scale, ...)
};

// The complete, restorable state of an env between steps (for checkpoints and resume).
struct EnvState {
  std::vector<double> qpos, qvel, act, ctrl;
  double time = 0.0;
  std::int64_t elapsed_steps = 0;  // steps in the current episode
  double episode_return = 0.0;
  std::int64_t episode_length = 0;
  std::string rng;                 // core::Rng::state()
  std::vector<double> extra;       // task-specific values (e.g. a goal position)
};

// A bad model file or an env option out of range: a user error, exit code 2.
class EnvError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Env {
 public:
  virtual ~Env() = default;
  virtual const EnvSpec& spec() const = 0;

  // Reseeds the env's own random stream, then resets. Writes obs_dim values to obs.
  virtual void reset(std::uint64_t seed, double* obs) = 0;
  // Resets, continuing the random stream.
  virtual void reset(double* obs) = 0;
  // Applies act_dim values. Writes the next observation. The time limit is applied here.
  virtual StepResult step(const double* action, double* obs) = 0;

  // The reward terms of the last step (names are stable per task).
  virtual const RewardTerms& reward_terms() const = 0;

  // Return and length of the episode in progress (including the last step).
  virtual double episode_return() const = 0;
  virtual std::int64_t episode_length() const = 0;

  virtual EnvState state() const = 0;
  virtual void set_state(const EnvState& state) = 0;
};

// Env::step for callers holding vectors: throws EnvError unless action has act_dim values;
// obs is resized to obs_dim.
StepResult step_checked(Env& env, const std::vector<double>& action, std::vector<double>& obs);

// Known env ids, in a stable order.
std::vector<std::string> env_ids();
// The spec of a registered env with default options (built once, then cached). Throws
// EnvError for an unknown id.
EnvSpec env_spec(const std::string& id);
// Builds an env. Throws EnvError for an unknown id (listing the known ones), a model file
// that does not parse or lacks a name the task needs (naming it), or a bad option.
std::unique_ptr<Env> make_env(const std::string& id, const EnvOptions& options = {});

}  // namespace graybox::envs
