// Ant-v5 / -v4: quadruped on a free joint `root` (q0..6 = x, y, z, quaternion), hips hip_1..4
// and ankles ankle_1..4; the torso is body 1 (`torso`).
//   obs v5 (105): [q2..14, qd0..13, clip(cfrc_ext[1..13], contact_force_min/max)] (the world row
//                 dropped; include_cfrc_ext_in_observation=0 leaves 27)
//   obs v4 (27):  [q2..14, qd0..13]; use_contact_forces=1 appends clip(cfrc_ext) of all 14 bodies
//                 (111). Both: exclude_current_positions_from_observation=0 adds q0, q1.
//   reward: forward_reward_weight * (xpos_x(torso)_after - before) / dt + healthy
//           - ctrl_cost_weight * |a|^2 - contact_cost_weight * sum clip(cfrc_ext)^2
//           v5: healthy = healthy_reward if healthy, contact cost always;
//           v4: healthy paid on every step while terminate_when_unhealthy (terminal included),
//               contact cost only with use_contact_forces=1
//   healthy (inclusive): qpos, qvel finite and healthy_z_min <= q2 <= healthy_z_max (0.2, 1.0)
//   terminated: not healthy, when terminate_when_unhealthy
//   reset: qpos += U(+-reset_noise_scale), qvel = reset_noise_scale * N(0, 1); default 0.1. The
//          quaternion is not renormalised.
#include <cmath>

#include "envs/mujoco_env.hpp"
#include "envs/task_util.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

TaskInfo ant_info(Version version) {
  TaskInfo info;
  info.id = versioned_id("Ant", version);
  info.builtin_file = "ant.xml";
  info.nq = 15;
  info.nv = 14;
  info.nu = 8;
  info.frame_skip = 5;
  info.max_episode_steps = 1000;
  info.reward_threshold = 6000.0;
  return info;
}

class Ant final : public MujocoEnv {
 public:
  Ant(const EnvOptions& options, Version version) : MujocoEnv(ant_info(version), options), version_(version) {
    ParamReader params(info_.id, options.params);
    forward_weight_ = params.number("forward_reward_weight", 1.0);
    ctrl_weight_ = params.number("ctrl_cost_weight", 0.5, 0.0);
    contact_weight_ = params.number("contact_cost_weight", 5e-4, 0.0);
    healthy_reward_ = params.number("healthy_reward", 1.0);
    terminate_when_unhealthy_ = params.flag("terminate_when_unhealthy", true);
    z_min_ = params.number("healthy_z_min", 0.2);
    z_max_ = params.number("healthy_z_max", 1.0);
    force_min_ = params.number("contact_force_min", -1.0);
    force_max_ = params.number("contact_force_max", 1.0);
    noise_ = params.number("reset_noise_scale", 0.1, 0.0);
    exclude_xy_ = params.flag("exclude_current_positions_from_observation", true);
    if (version == Version::kV4) {
      contact_forces_ = params.flag("use_contact_forces", false);
    } else {
      contact_forces_ = params.flag("include_cfrc_ext_in_observation", true);
    }
    params.finish();
    if (force_min_ > force_max_) throw EnvError(info_.id + ": contact_force_min > contact_force_max");
    const char* hinges[] = {"hip_1", "ankle_1", "hip_2", "ankle_2", "hip_3", "ankle_3", "hip_4", "ankle_4"};
    require_joint_at("root", 0);
    for (int i = 0; i < 8; ++i) require_joint_at(hinges[i], 7 + i);
    torso_ = body_id("torso");
    nbody_ = model_->nbody;
    // v4 keeps the world row of cfrc_ext, v5 drops it.
    cfrc_first_ = version == Version::kV4 ? 0 : 1;
    const int contact_dim = contact_forces_ ? 6 * (nbody_ - cfrc_first_) : 0;
    set_obs_dim((exclude_xy_ ? 13 : 15) + 14 + contact_dim);
    terms_ = {{"forward", 0.0}, {"healthy", 0.0}, {"ctrl_cost", 0.0}, {"contact_cost", 0.0}};
  }

 protected:
  void add_reset_noise(double* qpos, double* qvel) override {
    for (int i = 0; i < 15; ++i) qpos[i] += rng_.uniform(-noise_, noise_);
    for (int i = 0; i < 14; ++i) qvel[i] += noise_ * rng_.normal();
  }

  void before_step() override { x_before_ = data_->xpos[3 * torso_]; }

  bool is_healthy() const {
    const mjData* d = data_.get();
    for (int i = 0; i < 15; ++i) {
      if (!std::isfinite(d->qpos[i])) return false;
    }
    for (int i = 0; i < 14; ++i) {
      if (!std::isfinite(d->qvel[i])) return false;
    }
    return z_min_ <= d->qpos[2] && d->qpos[2] <= z_max_;
  }

  void evaluate(const double* action, StepResult& result) override {
    const mjData* d = data_.get();
    const double forward = forward_weight_ * (d->xpos[3 * torso_] - x_before_) / spec_.dt;
    const bool healthy = is_healthy();
    const bool paid = healthy || (version_ == Version::kV4 && terminate_when_unhealthy_);
    const double healthy_term = paid ? healthy_reward_ : 0.0;
    const double ctrl_cost = ctrl_weight_ * sum_squares(action, 8);
    const bool with_contact = version_ == Version::kV5 || contact_forces_;
    const double contact_cost =
        with_contact ? contact_weight_ * sum_squares_clipped(d->cfrc_ext, 6 * nbody_, force_min_, force_max_)
                     : 0.0;
    result.reward = forward + healthy_term - ctrl_cost - contact_cost;
    result.terminated = terminate_when_unhealthy_ && !healthy;
    terms_[0].second = forward;
    terms_[1].second = healthy_term;
    terms_[2].second = -ctrl_cost;
    terms_[3].second = -contact_cost;
  }

  void write_obs(double* obs) const override {
    const mjData* d = data_.get();
    const int first = exclude_xy_ ? 2 : 0;
    double* out = copy_values(d->qpos + first, 15 - first, obs);
    out = copy_values(d->qvel, 14, out);
    if (contact_forces_) {
      copy_clipped(d->cfrc_ext + 6 * cfrc_first_, 6 * (nbody_ - cfrc_first_), force_min_, force_max_, out);
    }
  }

 private:
  Version version_;
  double forward_weight_ = 1.0;
  double ctrl_weight_ = 0.5;
  double contact_weight_ = 5e-4;
  double healthy_reward_ = 1.0;
  bool terminate_when_unhealthy_ = true;
  double z_min_ = 0.2, z_max_ = 1.0;
  double force_min_ = -1.0, force_max_ = 1.0;
  double noise_ = 0.1;
  bool exclude_xy_ = true;
  bool contact_forces_ = true;  // v5: include_cfrc_ext_in_observation; v4: use_contact_forces
  int torso_ = 1;
  int nbody_ = 14;
  int cfrc_first_ = 1;
  double x_before_ = 0.0;
};

}  // namespace

std::unique_ptr<Env> make_ant(const EnvOptions& options, Version version) {
  return std::make_unique<Ant>(options, version);
}

}  // namespace graybox::envs
