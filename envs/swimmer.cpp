// Swimmer-v5 / -v4 (identical behaviour): a three-link swimmer in a viscous medium. Joints
// slider1 (q0 = x), slider2 (q1 = y), free_body_rot (q2), motor1_rot (q3), motor2_rot (q4).
//   obs (8): [q2..4, qd0..4]; 10 with exclude_current_positions_from_observation=0
//   reward: forward_reward_weight * (x_after - x_before) / dt - ctrl_cost_weight * |a|^2
//   terminated: never
//   reset: qpos, qvel ~ U(+-reset_noise_scale), default 0.1
#include "envs/mujoco_env.hpp"
#include "envs/task_util.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

TaskInfo swimmer_info(Version version) {
  TaskInfo info;
  info.id = versioned_id("Swimmer", version);
  info.builtin_file = "swimmer.xml";
  info.nq = 5;
  info.nv = 5;
  info.nu = 2;
  info.frame_skip = 4;
  info.max_episode_steps = 1000;
  info.reward_threshold = 360.0;
  return info;
}

class Swimmer final : public MujocoEnv {
 public:
  Swimmer(const EnvOptions& options, Version version) : MujocoEnv(swimmer_info(version), options) {
    ParamReader params(info_.id, options.params);
    forward_weight_ = params.number("forward_reward_weight", 1.0);
    ctrl_weight_ = params.number("ctrl_cost_weight", 1e-4, 0.0);
    noise_ = params.number("reset_noise_scale", 0.1, 0.0);
    exclude_xy_ = params.flag("exclude_current_positions_from_observation", true);
    params.finish();
    const char* joints[] = {"slider1", "slider2", "free_body_rot", "motor1_rot", "motor2_rot"};
    for (int i = 0; i < 5; ++i) require_joint_at(joints[i], i);
    set_obs_dim(exclude_xy_ ? 8 : 10);
    terms_ = {{"forward", 0.0}, {"ctrl_cost", 0.0}};
  }

 protected:
  void add_reset_noise(double* qpos, double* qvel) override {
    for (int i = 0; i < 5; ++i) qpos[i] += rng_.uniform(-noise_, noise_);
    for (int i = 0; i < 5; ++i) qvel[i] += rng_.uniform(-noise_, noise_);
  }

  void before_step() override { x_before_ = data_->qpos[0]; }

  void evaluate(const double* action, StepResult& result) override {
    const double forward = forward_weight_ * (data_->qpos[0] - x_before_) / spec_.dt;
    const double ctrl_cost = ctrl_weight_ * sum_squares(action, 2);
    result.reward = forward - ctrl_cost;
    result.terminated = false;
    terms_[0].second = forward;
    terms_[1].second = -ctrl_cost;
  }

  void write_obs(double* obs) const override {
    const mjData* d = data_.get();
    const int first = exclude_xy_ ? 2 : 0;
    double* out = copy_values(d->qpos + first, 5 - first, obs);
    copy_values(d->qvel, 5, out);
  }

 private:
  double forward_weight_ = 1.0;
  double ctrl_weight_ = 1e-4;
  double noise_ = 0.1;
  bool exclude_xy_ = true;
  double x_before_ = 0.0;
};

}  // namespace

std::unique_ptr<Env> make_swimmer(const EnvOptions& options, Version version) {
  return std::make_unique<Swimmer>(options, version);
}

}  // namespace graybox::envs
