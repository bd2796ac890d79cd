// Walker2d-v5 / -v4: planar biped. Joints rootx (q0), rootz (q1, ref 1.25, so q1 is the torso
// height), rooty (q2), thigh_joint, leg_joint, foot_joint, thigh_left_joint, leg_left_joint,
// foot_left_joint.
//   obs (17): [q1..8, clip(qd0..8, +-10)]; 18 with exclude_current_positions_from_observation=0
//   reward: forward_reward_weight * (x_after - x_before) / dt + healthy - ctrl_cost_weight * |a|^2
//           healthy = healthy_reward if healthy (v5); v4 pays it on every step while
//           terminate_when_unhealthy, the terminal one included
//   healthy (strict): healthy_z_min < q1 < healthy_z_max (0.8, 2.0) and
//                     healthy_angle_min < q2 < healthy_angle_max (-1, 1)
//   terminated: not healthy, when terminate_when_unhealthy
//   reset: qpos, qvel ~ U(+-reset_noise_scale), default 5e-3
//   model: v5 walker2d_v5.xml (right foot friction 1.9), v4 walker2d.xml (0.9)
#include <algorithm>

#include "envs/mujoco_env.hpp"
#include "envs/task_util.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

TaskInfo walker_info(Version version) {
  TaskInfo info;
  info.id = versioned_id("Walker2d", version);
  info.builtin_file = version == Version::kV4 ? "walker2d.xml" : "walker2d_v5.xml";
  info.nq = 9;
  info.nv = 9;
  info.nu = 6;
  info.frame_skip = 4;
  info.max_episode_steps = 1000;
  info.reward_threshold = 0.0;  // none registered
  return info;
}

class Walker2d final : public MujocoEnv {
 public:
  Walker2d(const EnvOptions& options, Version version)
      : MujocoEnv(walker_info(version), options), version_(version) {
    ParamReader params(info_.id, options.params);
    forward_weight_ = params.number("forward_reward_weight", 1.0);
    ctrl_weight_ = params.number("ctrl_cost_weight", 1e-3, 0.0);
    healthy_reward_ = params.number("healthy_reward", 1.0);
    terminate_when_unhealthy_ = params.flag("terminate_when_unhealthy", true);
    z_min_ = params.number("healthy_z_min", 0.8);
    z_max_ = params.number("healthy_z_max", 2.0);
    angle_min_ = params.number("healthy_angle_min", -1.0);
    angle_max_ = params.number("healthy_angle_max", 1.0);
    noise_ = params.number("reset_noise_scale", 5e-3, 0.0);
    exclude_x_ = params.flag("exclude_current_positions_from_observation", true);
    params.finish();
    const char* joints[] = {"rootx",      "rootz",            "rooty",
                            "thigh_joint", "leg_joint",       "foot_joint",
                            "thigh_left_joint", "leg_left_joint", "foot_left_joint"};
    for (int i = 0; i < 9; ++i) require_joint_at(joints[i], i);
    set_obs_dim(exclude_x_ ? 17 : 18);
    terms_ = {{"forward", 0.0}, {"healthy", 0.0}, {"ctrl_cost", 0.0}};
  }

 protected:
  void add_reset_noise(double* qpos, double* qvel) override {
    for (int i = 0; i < 9; ++i) qpos[i] += rng_.uniform(-noise_, noise_);
    for (int i = 0; i < 9; ++i) qvel[i] += rng_.uniform(-noise_, noise_);
  }

  void before_step() override { x_before_ = data_->qpos[0]; }

  bool is_healthy() const {
    const double z = data_->qpos[1];
    const double angle = data_->qpos[2];
    return z_min_ < z && z < z_max_ && angle_min_ < angle && angle < angle_max_;
  }

  void evaluate(const double* action, StepResult& result) override {
    const double forward = forward_weight_ * (data_->qpos[0] - x_before_) / spec_.dt;
    const bool healthy = is_healthy();
    const bool paid = healthy || (version_ == Version::kV4 && terminate_when_unhealthy_);
    const double healthy_term = paid ? healthy_reward_ : 0.0;
    const double ctrl_cost = ctrl_weight_ * sum_squares(action, 6);
    result.reward = forward + healthy_term - ctrl_cost;
    result.terminated = terminate_when_unhealthy_ && !healthy;
    terms_[0].second = forward;
    terms_[1].second = healthy_term;
    terms_[2].second = -ctrl_cost;
  }

  void write_obs(double* obs) const override {
    const mjData* d = data_.get();
    const int first = exclude_x_ ? 1 : 0;
    double* out = copy_values(d->qpos + first, 9 - first, obs);
    copy_clipped(d->qvel, 9, -10.0, 10.0, out);
  }

 private:
  Version version_;
  double forward_weight_ = 1.0;
  double ctrl_weight_ = 1e-3;
  double healthy_reward_ = 1.0;
  bool terminate_when_unhealthy_ = true;
  double z_min_ = 0.8, z_max_ = 2.0, angle_min_ = -1.0, angle_max_ = 1.0;
  double noise_ = 5e-3;
  bool exclude_x_ = true;
  double x_before_ = 0.0;
};

}  // namespace

std::unique_ptr<Env> make_walker2d(const EnvOptions& options, Version version) {
  return std::make_unique<Walker2d>(options, version);
}

}  // namespace graybox::envs
