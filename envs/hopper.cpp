// Hopper-v5 / -v4: planar one-legged hopper. Joints rootx (q0), rootz (q1, ref 1.25, so q1 is the
// torso height), rooty (q2), thigh_joint, leg_joint, foot_joint.
//   obs (11): [q1..5, clip(qd0..5, +-10)]; 12 with exclude_current_positions_from_observation=0
//   reward: forward_reward_weight * (x_after - x_before) / dt
//           + healthy_reward * [healthy]            (v5: nothing on an unhealthy step;
//             v4: paid on every step while terminate_when_unhealthy, the terminal one included)
//           - ctrl_cost_weight * |a|^2              (raw action)
//   healthy (strict): every entry of [q2.., qd] in (-100, 100), 0.7 < q1, -0.2 < q2 < 0.2
//   terminated: not healthy, when terminate_when_unhealthy
//   reset: qpos, qvel ~ U(+-reset_noise_scale), default 5e-3
#include <algorithm>
#include <cmath>
#include <limits>

#include "envs/mujoco_env.hpp"
#include "envs/task_util.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

TaskInfo hopper_info(Version version) {
  TaskInfo info;
  info.id = versioned_id("Hopper", version);
  info.builtin_file = "hopper.xml";
  info.nq = 6;
  info.nv = 6;
  info.nu = 3;
  info.frame_skip = 4;
  info.max_episode_steps = 1000;
  info.reward_threshold = 3800.0;
  return info;
}

class Hopper final : public MujocoEnv {
 public:
  Hopper(const EnvOptions& options, Version version)
      : MujocoEnv(hopper_info(version), options), version_(version) {
    ParamReader params(info_.id, options.params);
    forward_weight_ = params.number("forward_reward_weight", 1.0);
    ctrl_weight_ = params.number("ctrl_cost_weight", 1e-3, 0.0);
    healthy_reward_ = params.number("healthy_reward", 1.0);
    terminate_when_unhealthy_ = params.flag("terminate_when_unhealthy", true);
    noise_ = params.number("reset_noise_scale", 5e-3, 0.0);
    exclude_x_ = params.flag("exclude_current_positions_from_observation", true);
    params.finish();
    const char* joints[] = {"rootx", "rootz", "rooty", "thigh_joint", "leg_joint", "foot_joint"};
    for (int i = 0; i < 6; ++i) require_joint_at(joints[i], i);
    set_obs_dim(exclude_x_ ? 11 : 12);
    terms_ = {{"forward", 0.0}, {"healthy", 0.0}, {"ctrl_cost", 0.0}};
  }

 protected:
  void add_reset_noise(double* qpos, double* qvel) override {
    for (int i = 0; i < model_->nq; ++i) qpos[i] += rng_.uniform(-noise_, noise_);
    for (int i = 0; i < model_->nv; ++i) qvel[i] += rng_.uniform(-noise_, noise_);
  }

  void before_step() override { x_before_ = data_->qpos[0]; }

  bool is_healthy() const {
    const mjData* d = data_.get();
    const double z = d->qpos[1];
    const double angle = d->qpos[2];
    for (int i = 2; i < 6; ++i) {
      if (!(d->qpos[i] > -100.0 && d->qpos[i] < 100.0)) return false;
    }
    for (int i = 0; i < 6; ++i) {
      if (!(d->qvel[i] > -100.0 && d->qvel[i] < 100.0)) return false;
    }
    const bool healthy_z = 0.7 < z && z < std::numeric_limits<double>::infinity();
    const bool healthy_angle = -0.2 < angle && angle < 0.2;
    return healthy_z && healthy_angle;
  }

  void evaluate(const double* action, StepResult& result) override {
    const double x_velocity = (data_->qpos[0] - x_before_) / spec_.dt;
    const bool healthy = is_healthy();
    const double forward = forward_weight_ * x_velocity;
    const bool paid = healthy || (version_ == Version::kV4 && terminate_when_unhealthy_);
    const double healthy_term = paid ? healthy_reward_ : 0.0;
    double sq = 0.0;
    for (int i = 0; i < 3; ++i) sq += action[i] * action[i];
    const double ctrl_cost = ctrl_weight_ * sq;
    result.reward = (forward + healthy_term) - ctrl_cost;
    result.terminated = terminate_when_unhealthy_ && !healthy;
    terms_[0].second = forward;
    terms_[1].second = healthy_term;
    terms_[2].second = -ctrl_cost;
  }

  void write_obs(double* obs) const override {
    const mjData* d = data_.get();
    int k = 0;
    for (int i = exclude_x_ ? 1 : 0; i < 6; ++i) obs[k++] = d->qpos[i];
    for (int i = 0; i < 6; ++i) obs[k++] = std::clamp(d->qvel[i], -10.0, 10.0);
  }

 private:
  Version version_;
  double forward_weight_ = 1.0;
  double ctrl_weight_ = 1e-3;
  double healthy_reward_ = 1.0;
  bool terminate_when_unhealthy_ = true;
  double noise_ = 5e-3;
  bool exclude_x_ = true;
  double x_before_ = 0.0;
};

}  // namespace

std::unique_ptr<Env> make_hopper(const EnvOptions& options, Version version) {
  return std::make_unique<Hopper>(options, version);
}

}  // namespace graybox::envs
