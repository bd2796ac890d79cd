// MujocoEnv: the mechanics shared by all MuJoCo tasks (Gymnasium's MujocoEnv plus TimeLimit):
// model loading, reset with noise, the step order, the time limit, episode bookkeeping,
// stability checks and state save/restore. A task supplies its observation, reward and
// reset-noise rules through the protected hooks.
//
// Step order (as Gymnasium): ctrl = action (raw; MuJoCo clamps to ctrlrange), mj_step
// frame_skip times, mj_rnePostConstraint once. No mj_forward afterwards.
//
// Stability: a step never throws and never crashes on bad numbers.
//   * a non-finite action: nothing is simulated; reward 0, truncated and unstable.
//   * after simulating, a qpos/qvel entry that is non-finite or beyond MuJoCo's own bound
//     (|x| > mjMAXVAL = 1e10), or a MuJoCo warning raised during this step (bad qpos/qvel/qacc,
//     which also makes MuJoCo reset mjData): truncated and unstable, terminated false, reward 0
//     and every reward term 0, and non-finite observation entries are written as 0 so that
//     bootstrapping from the final observation cannot spread NaN.
//
// EnvState::extra holds mjData::qacc_warmstart (nv values): the constraint solver starts from
// it, so it is needed for a restored env to step bit-identically to the original. After a step
// it also holds the start state of that step's last mj_step call: [1, qpos (nq), qvel (nv),
// act (na), qacc_warmstart (nv), time]. Positions, velocities and forces derived by MuJoCo
// (xpos, xipos, cinert, cvel, cfrc_ext, qfrc_constraint, ...) lag one mj_step behind qpos (see
// the spec), so set_state re-runs that last mj_step (and mj_rnePostConstraint) to rebuild them
// exactly; a state saved right after a reset has only the nv warmstart values (mj_forward).
#pragma once

#include <mujoco/mujoco.h>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "envs/env.hpp"

namespace graybox::envs {

struct MjModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
struct MjDataDeleter {
  void operator()(mjData* d) const { mj_deleteData(d); }
};
using ModelPtr = std::unique_ptr<mjModel, MjModelDeleter>;
using DataPtr = std::unique_ptr<mjData, MjDataDeleter>;

// Loads the shipped model `builtin_file` (e.g. "hopper.xml") through MuJoCo's virtual file
// system when model_path is empty, else the file model_path from disk. Throws EnvError with
// MuJoCo's parse message (or "cannot open") naming the file.
ModelPtr load_model(const std::string& builtin_file, const std::string& model_path);

// Reads task parameters from EnvOptions::params: each known name once, then finish() rejects
// any name that was not read. Values must be finite and inside the given bounds.
class ParamReader {
 public:
  ParamReader(std::string env_id, const std::map<std::string, double>& params);
  double number(const std::string& name, double default_value,
                double low = -std::numeric_limits<double>::infinity(),
                double high = std::numeric_limits<double>::infinity());
  bool flag(const std::string& name, bool default_value);  // 0 or 1
  void finish() const;                                     // throws on unknown names

 private:
  std::string env_id_;
  const std::map<std::string, double>& params_;
  std::vector<std::string> known_;
};

// What a task declares about itself.
struct TaskInfo {
  std::string id;            // e.g. "Hopper-v5"
  std::string builtin_file;  // e.g. "hopper.xml"
  int nq = 0, nv = 0, nu = 0;
  int frame_skip = 1;
  int max_episode_steps = 1000;
  double reward_threshold = 0.0;
};

class MujocoEnv : public Env {
 public:
  ~MujocoEnv() override;
  MujocoEnv(const MujocoEnv&) = delete;
  MujocoEnv& operator=(const MujocoEnv&) = delete;

  const EnvSpec& spec() const override { return spec_; }
  void reset(std::uint64_t seed, double* obs) override;
  void reset(double* obs) override;
  StepResult step(const double* action, double* obs) override;
  const RewardTerms& reward_terms() const override { return terms_; }
  double episode_return() const override { return episode_return_; }
  std::int64_t episode_length() const override { return episode_length_; }
  EnvState state() const override;
  void set_state(const EnvState& state) override;

  // Direct access for tests, benchmarks and tools.
  const mjModel* model() const { return model_.get(); }
  mjData* data() { return data_.get(); }
  const mjData* data() const { return data_.get(); }
  // Writes the observation of the current state (as step/reset would).
  void observe(double* obs) const { write_obs(obs); }
  // The file the model came from, as named in error messages.
  const std::string& model_name() const { return model_name_; }

 protected:
  MujocoEnv(const TaskInfo& info, const EnvOptions& options);

  // Finishes construction once the task knows its observation size.
  void set_obs_dim(int obs_dim) { spec_.obs_dim = obs_dim; }

  // Name lookups that throw EnvError naming the file and the missing name.
  int joint_id(const std::string& name) const;
  int body_id(const std::string& name) const;
  int site_id(const std::string& name) const;
  // The joint's qpos address, which must equal expected_qpos (the task's layout).
  int require_joint_at(const std::string& name, int expected_qpos) const;

  // Reset noise: add noise to qpos (already qpos0) and qvel (already 0), drawing from rng_.
  virtual void add_reset_noise(double* qpos, double* qvel) = 0;
  // Called just before the action is applied (e.g. to record the x position).
  virtual void before_step() {}
  // After simulating: set result.reward, result.terminated and the values of terms_.
  virtual void evaluate(const double* action, StepResult& result) = 0;
  virtual void write_obs(double* obs) const = 0;

  const TaskInfo info_;
  EnvSpec spec_;
  ModelPtr model_;
  DataPtr data_;
  std::string model_name_;
  core::Rng rng_;
  RewardTerms terms_;  // names fixed by the task's constructor, values updated each step
  double timestep_ = 0.0;

 private:
  void reset_physics();
  void zero_terms();
  bool state_is_bad() const;
  void sanitize(double* obs) const;

  std::int64_t elapsed_steps_ = 0;
  double episode_return_ = 0.0;
  std::int64_t episode_length_ = 0;

  // The start state of the last mj_step call (valid when has_prev_), for state().
  bool has_prev_ = false;
  std::vector<double> prev_qpos_, prev_qvel_, prev_act_, prev_warmstart_;
  double prev_time_ = 0.0;
};

}  // namespace graybox::envs
