// Reacher-v5 / -v4: a two-link planar arm (`joint0` q0, `joint1` q1) reaching for a target
// on slides `target_x` (q2), `target_y` (q3) whose values are the target's world x, y.
//   obs v5 (10): [cos q0, cos q1, sin q0, sin q1, q2, q3, qd0, qd1, (p_fingertip - p_target)_xy]
//   obs v4 (11): the same with the z component of the difference (always 0)
//   reward: -reward_dist_weight * |p_fingertip - p_target| - reward_control_weight * |a|^2,
//           p = xpos of the bodies `fingertip` and `target`; v5 measures the distance after the
//           step, v4 before it (the state the action was chosen in)
//   terminated: never (truncated after 50 steps)
//   reset: qpos = qpos0 + U(+-0.1); goal g ~ U(+-0.2)^2 redrawn until |g| < 0.2, (q2, q3) = g;
//          qvel ~ U(+-0.005) with the target's qvel 0
#include <cmath>

#include "envs/mujoco_env.hpp"
#include "envs/task_util.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

TaskInfo reacher_info(Version version) {
  TaskInfo info;
  info.id = versioned_id("Reacher", version);
  info.builtin_file = "reacher.xml";
  info.nq = 4;
  info.nv = 4;
  info.nu = 2;
  info.frame_skip = 2;
  info.max_episode_steps = 50;
  info.reward_threshold = -3.75;
  return info;
}

class Reacher final : public MujocoEnv {
 public:
  Reacher(const EnvOptions& options, Version version)
      : MujocoEnv(reacher_info(version), options), version_(version) {
    ParamReader params(info_.id, options.params);
    dist_weight_ = params.number("reward_dist_weight", 1.0);
    ctrl_weight_ = params.number("reward_control_weight", 1.0);
    params.finish();
    const char* joints[] = {"joint0", "joint1", "target_x", "target_y"};
    for (int i = 0; i < 4; ++i) require_joint_at(joints[i], i);
    fingertip_ = body_id("fingertip");
    target_ = body_id("target");
    set_obs_dim(version == Version::kV4 ? 11 : 10);
    terms_ = {{"distance_cost", 0.0}, {"ctrl_cost", 0.0}};
  }

 protected:
  void add_reset_noise(double* qpos, double* qvel) override {
    for (int i = 0; i < 4; ++i) qpos[i] += rng_.uniform(-0.1, 0.1);
    double gx = 0.0, gy = 0.0;
    do {
      gx = rng_.uniform(-0.2, 0.2);
      gy = rng_.uniform(-0.2, 0.2);
    } while (!(std::sqrt(gx * gx + gy * gy) < 0.2));
    qpos[2] = gx;
    qpos[3] = gy;
    for (int i = 0; i < 4; ++i) qvel[i] += rng_.uniform(-0.005, 0.005);
    qvel[2] = 0.0;
    qvel[3] = 0.0;
  }

  double distance() const {
    const double* f = data_->xpos + 3 * fingertip_;
    const double* t = data_->xpos + 3 * target_;
    const double dx = f[0] - t[0], dy = f[1] - t[1], dz = f[2] - t[2];
    return std::sqrt(dx * dx + dy * dy + dz * dz);
  }

  void before_step() override {
    if (version_ == Version::kV4) dist_before_ = distance();
  }

  void evaluate(const double* action, StepResult& result) override {
    const double dist = version_ == Version::kV4 ? dist_before_ : distance();
    const double dist_cost = dist_weight_ * dist;
    const double ctrl_cost = ctrl_weight_ * sum_squares(action, 2);
    result.reward = -dist_cost - ctrl_cost;
    result.terminated = false;
    terms_[0].second = -dist_cost;
    terms_[1].second = -ctrl_cost;
  }

  void write_obs(double* obs) const override {
    const mjData* d = data_.get();
    obs[0] = std::cos(d->qpos[0]);
    obs[1] = std::cos(d->qpos[1]);
    obs[2] = std::sin(d->qpos[0]);
    obs[3] = std::sin(d->qpos[1]);
    obs[4] = d->qpos[2];
    obs[5] = d->qpos[3];
    obs[6] = d->qvel[0];
    obs[7] = d->qvel[1];
    const int n = version_ == Version::kV4 ? 3 : 2;
    for (int i = 0; i < n; ++i) obs[8 + i] = d->xpos[3 * fingertip_ + i] - d->xpos[3 * target_ + i];
  }

 private:
  Version version_;
  double dist_weight_ = 1.0;
  double ctrl_weight_ = 1.0;
  int fingertip_ = 0;
  int target_ = 0;
  double dist_before_ = 0.0;
};

}  // namespace

std::unique_ptr<Env> make_reacher(const EnvOptions& options, Version version) {
  return std::make_unique<Reacher>(options, version);
}

}  // namespace graybox::envs
