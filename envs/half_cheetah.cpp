// HalfCheetah-v5 / -v4 (identical behaviour): planar cheetah. Joints rootx (q0), rootz (q1), rooty (q2), bthigh, bshin,
// bfoot, fthigh, fshin, ffoot.
//   obs (17): [q1..8, qd0..8] (no clipping); 18 with exclude_current_positions_from_observation=0
//   reward: forward_reward_weight * (x_after - x_before) / dt - ctrl_cost_weight * |a|^2
//   terminated: never
//   reset: qpos += U(+-reset_noise_scale), qvel = reset_noise_scale * N(0, 1); default 0.1
#include "envs/mujoco_env.hpp"
#include "envs/task_util.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

TaskInfo cheetah_info(Version version) {
  TaskInfo info;
  info.id = versioned_id("HalfCheetah", version);
  info.builtin_file = "half_cheetah.xml";
  info.nq = 9;
  info.nv = 9;
  info.nu = 6;
  info.frame_skip = 5;
  info.max_episode_steps = 1000;
  info.reward_threshold = 4800.0;
  return info;
}

class HalfCheetah final : public MujocoEnv {
 public:
  HalfCheetah(const EnvOptions& options, Version version)
      : MujocoEnv(cheetah_info(version), options) {
    ParamReader params(info_.id, options.params);
    forward_weight_ = params.number("forward_reward_weight", 1.0);
    ctrl_weight_ = params.number("ctrl_cost_weight", 0.1, 0.0);
    noise_ = params.number("reset_noise_scale", 0.1, 0.0);
    exclude_x_ = params.flag("exclude_current_positions_from_observation", true);
    params.finish();
    const char* joints[] = {"rootx", "rootz", "rooty", "bthigh", "bshin",
                            "bfoot", "fthigh", "fshin", "ffoot"};
    for (int i = 0; i < 9; ++i) require_joint_at(joints[i], i);
    set_obs_dim(exclude_x_ ? 17 : 18);
    terms_ = {{"forward", 0.0}, {"ctrl_cost", 0.0}};
  }

 protected:
  void add_reset_noise(double* qpos, double* qvel) override {
    for (int i = 0; i < model_->nq; ++i) qpos[i] += rng_.uniform(-noise_, noise_);
    for (int i = 0; i < model_->nv; ++i) qvel[i] += noise_ * rng_.normal();
  }

  void before_step() override { x_before_ = data_->qpos[0]; }

  void evaluate(const double* action, StepResult& result) override {
    const double x_velocity = (data_->qpos[0] - x_before_) / spec_.dt;
    const double forward = forward_weight_ * x_velocity;
    double sq = 0.0;
    for (int i = 0; i < 6; ++i) sq += action[i] * action[i];
    const double ctrl_cost = ctrl_weight_ * sq;
    result.reward = forward - ctrl_cost;
    result.terminated = false;
    terms_[0].second = forward;
    terms_[1].second = -ctrl_cost;
  }

  void write_obs(double* obs) const override {
    const mjData* d = data_.get();
    int k = 0;
    for (int i = exclude_x_ ? 1 : 0; i < 9; ++i) obs[k++] = d->qpos[i];
    for (int i = 0; i < 9; ++i) obs[k++] = d->qvel[i];
  }

 private:
  double forward_weight_ = 1.0;
  double ctrl_weight_ = 0.1;
  double noise_ = 0.1;
  bool exclude_x_ = true;
  double x_before_ = 0.0;
};

}  // namespace

std::unique_ptr<Env> make_half_cheetah(const EnvOptions& options, Version version) {
  return std::make_unique<HalfCheetah>(options, version);
}

}  // namespace graybox::envs
