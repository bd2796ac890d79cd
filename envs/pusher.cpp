// Pusher-v5 / -v4: a 7-dof arm (r_shoulder_pan_joint ... r_wrist_roll_joint, q0..6) pushing an
// object (obj_slidey q7, obj_slidex q8) to a goal (goal_slidey q9, goal_slidex q10).
//   obs (23): [q0..6, qd0..6, xpos(tips_arm), xpos(object), xpos(goal)]
//   reward: -reward_near_weight * |p_object - p_tips_arm| - reward_dist_weight * |p_object - p_goal|
//           - reward_control_weight * |a|^2; v5 measures the distances after the step, v4 before
//   terminated: never (truncated after 100 steps)
//   reset: arm qpos = 0 (no noise); c = (U[-0.3, 0], U[-0.2, 0.2]) redrawn until |c| > 0.17,
//          (q7, q8) = c, (q9, q10) = 0; qvel ~ U(+-0.005) with qvel[7..10] = 0
//   model: v5 pusher_v5.xml (object density 0.01), v4 pusher.xml (density 1e-5, extra sphere)
#include <cmath>

#include "envs/mujoco_env.hpp"
#include "envs/task_util.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

TaskInfo pusher_info(Version version) {
  TaskInfo info;
  info.id = versioned_id("Pusher", version);
  info.builtin_file = version == Version::kV4 ? "pusher.xml" : "pusher_v5.xml";
  info.nq = 11;
  info.nv = 11;
  info.nu = 7;
  info.frame_skip = 5;
  info.max_episode_steps = 100;
  info.reward_threshold = 0.0;
  return info;
}

double distance3(const double* a, const double* b) {
  const double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
  return std::sqrt(dx * dx + dy * dy + dz * dz);
}

class Pusher final : public MujocoEnv {
 public:
  Pusher(const EnvOptions& options, Version version)
      : MujocoEnv(pusher_info(version), options), version_(version) {
    ParamReader params(info_.id, options.params);
    near_weight_ = params.number("reward_near_weight", 0.5);
    dist_weight_ = params.number("reward_dist_weight", 1.0);
    ctrl_weight_ = params.number("reward_control_weight", 0.1);
    params.finish();
    const char* joints[] = {"r_shoulder_pan_joint", "r_shoulder_lift_joint", "r_upper_arm_roll_joint",
                            "r_elbow_flex_joint",   "r_forearm_roll_joint",  "r_wrist_flex_joint",
                            "r_wrist_roll_joint",   "obj_slidey",            "obj_slidex",
                            "goal_slidey",          "goal_slidex"};
    for (int i = 0; i < 11; ++i) require_joint_at(joints[i], i);
    tips_ = body_id("tips_arm");
    object_ = body_id("object");
    goal_ = body_id("goal");
    set_obs_dim(23);
    terms_ = {{"near_cost", 0.0}, {"distance_cost", 0.0}, {"ctrl_cost", 0.0}};
  }

 protected:
  void add_reset_noise(double* qpos, double* qvel) override {
    double cy = 0.0, cx = 0.0;
    do {
      cy = rng_.uniform(-0.3, 0.0);
      cx = rng_.uniform(-0.2, 0.2);
    } while (!(std::sqrt(cy * cy + cx * cx) > 0.17));
    qpos[7] = cy;
    qpos[8] = cx;
    qpos[9] = 0.0;
    qpos[10] = 0.0;
    for (int i = 0; i < 11; ++i) qvel[i] += rng_.uniform(-0.005, 0.005);
    for (int i = 7; i < 11; ++i) qvel[i] = 0.0;
  }

  void distances(double* near, double* dist) const {
    const double* x = data_->xpos;
    *near = distance3(x + 3 * object_, x + 3 * tips_);
    *dist = distance3(x + 3 * object_, x + 3 * goal_);
  }

  void before_step() override {
    if (version_ == Version::kV4) distances(&near_before_, &dist_before_);
  }

  void evaluate(const double* action, StepResult& result) override {
    double near = near_before_, dist = dist_before_;
    if (version_ == Version::kV5) distances(&near, &dist);
    const double near_cost = near_weight_ * near;
    const double dist_cost = dist_weight_ * dist;
    const double ctrl_cost = ctrl_weight_ * sum_squares(action, 7);
    result.reward = -near_cost - dist_cost - ctrl_cost;
    result.terminated = false;
    terms_[0].second = -near_cost;
    terms_[1].second = -dist_cost;
    terms_[2].second = -ctrl_cost;
  }

  void write_obs(double* obs) const override {
    const mjData* d = data_.get();
    double* out = copy_values(d->qpos, 7, obs);
    out = copy_values(d->qvel, 7, out);
    out = copy_values(d->xpos + 3 * tips_, 3, out);
    out = copy_values(d->xpos + 3 * object_, 3, out);
    copy_values(d->xpos + 3 * goal_, 3, out);
  }

 private:
  Version version_;
  double near_weight_ = 0.5;
  double dist_weight_ = 1.0;
  double ctrl_weight_ = 0.1;
  int tips_ = 0, object_ = 0, goal_ = 0;
  double near_before_ = 0.0, dist_before_ = 0.0;
};

}  // namespace

std::unique_ptr<Env> make_pusher(const EnvOptions& options, Version version) {
  return std::make_unique<Pusher>(options, version);
}

}  // namespace graybox::envs
