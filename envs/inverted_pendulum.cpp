// InvertedPendulum-v5: a cart (slide joint `slider`, q0) carrying a pole (hinge `hinge`, q1).
//   obs (4): [q0, q1, qd0, qd1]
//   reward: 1 while not terminated, 0 on the terminating step (the v5 fix)
//   terminated: an obs entry non-finite, or |q1| > 0.2
//   reset: qpos, qvel ~ U(+-reset_noise_scale), default 0.01
#include <cmath>

#include "envs/mujoco_env.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

TaskInfo pendulum_info() {
  TaskInfo info;
  info.id = "InvertedPendulum-v5";
  info.builtin_file = "inverted_pendulum.xml";
  info.nq = 2;
  info.nv = 2;
  info.nu = 1;
  info.frame_skip = 2;
  info.max_episode_steps = 1000;
  info.reward_threshold = 950.0;
  return info;
}

class InvertedPendulum final : public MujocoEnv {
 public:
  explicit InvertedPendulum(const EnvOptions& options) : MujocoEnv(pendulum_info(), options) {
    ParamReader params(info_.id, options.params);
    noise_ = params.number("reset_noise_scale", 0.01, 0.0);
    params.finish();
    require_joint_at("slider", 0);
    require_joint_at("hinge", 1);
    set_obs_dim(4);
    terms_ = {{"survive", 0.0}};
  }

 protected:
  void add_reset_noise(double* qpos, double* qvel) override {
    for (int i = 0; i < model_->nq; ++i) qpos[i] += rng_.uniform(-noise_, noise_);
    for (int i = 0; i < model_->nv; ++i) qvel[i] += rng_.uniform(-noise_, noise_);
  }

  void evaluate(const double*, StepResult& result) override {
    const mjData* d = data_.get();
    bool finite = true;
    for (int i = 0; i < 2; ++i) {
      if (!std::isfinite(d->qpos[i]) || !std::isfinite(d->qvel[i])) finite = false;
    }
    result.terminated = !finite || std::fabs(d->qpos[1]) > 0.2;
    result.reward = result.terminated ? 0.0 : 1.0;
    terms_[0].second = result.reward;
  }

  void write_obs(double* obs) const override {
    const mjData* d = data_.get();
    obs[0] = d->qpos[0];
    obs[1] = d->qpos[1];
    obs[2] = d->qvel[0];
    obs[3] = d->qvel[1];
  }

 private:
  double noise_ = 0.01;
};

}  // namespace

std::unique_ptr<Env> make_inverted_pendulum(const EnvOptions& options) {
  return std::make_unique<InvertedPendulum>(options);
}

EnvSpec inverted_pendulum_spec() {
  const TaskInfo info = pendulum_info();
  EnvSpec spec;
  spec.id = info.id;
  spec.obs_dim = 4;
  spec.act_dim = 1;
  spec.act_low = {-3.0};
  spec.act_high = {3.0};
  spec.frame_skip = info.frame_skip;
  spec.dt = 0.02 * info.frame_skip;
  spec.max_episode_steps = info.max_episode_steps;
  spec.reward_threshold = info.reward_threshold;
  return spec;
}

}  // namespace graybox::envs
