// InvertedPendulum-v5 / -v4: a cart (slide joint `slider`, q0) carrying a pole (hinge `hinge`, q1).
//   obs (4): [q0, q1, qd0, qd1]
//   reward: v5: 1 while not terminated, 0 on the terminating step (the v5 fix); v4: 1 always
//   terminated: an obs entry non-finite, or |q1| > 0.2
//   reset: qpos, qvel ~ U(+-reset_noise_scale), default 0.01
#include <cmath>

#include "envs/mujoco_env.hpp"
#include "envs/task_util.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

TaskInfo pendulum_info(Version version) {
  TaskInfo info;
  info.id = versioned_id("InvertedPendulum", version);
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
  InvertedPendulum(const EnvOptions& options, Version version)
      : MujocoEnv(pendulum_info(version), options), version_(version) {
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
    result.reward = (result.terminated && version_ == Version::kV5) ? 0.0 : 1.0;
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
  Version version_;
  double noise_ = 0.01;
};

}  // namespace

std::unique_ptr<Env> make_inverted_pendulum(const EnvOptions& options, Version version) {
  return std::make_unique<InvertedPendulum>(options, version);
}

}  // namespace graybox::envs
