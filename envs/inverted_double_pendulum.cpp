// InvertedDoublePendulum-v5 / -v4: a cart (`slider`, q0) carrying two poles (`hinge` q1,
// `hinge2` q2); site `tip` at the top of the second pole.
//   obs v5 (9):  [q0, sin q1, sin q2, cos q1, cos q2, clip(qd0..2, +-10),
//                 clip(qfrc_constraint[0], +-10)]
//   obs v4 (11): the same with clip(qfrc_constraint[0..2], +-10)
//   reward: alive - (0.01 x_tip^2 + (z_tip - 2)^2) - (1e-3 qd1^2 + 5e-3 qd2^2), where (x, z)_tip
//           is site_xpos[tip] after the step; alive = healthy_reward (10) unless terminated (v5),
//           always (v4)
//   terminated: z_tip <= 1
//   reset: qpos += U(+-reset_noise_scale), qvel = reset_noise_scale * N(0, 1); default 0.1
#include <algorithm>
#include <cmath>

#include "envs/mujoco_env.hpp"
#include "envs/task_util.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

TaskInfo double_pendulum_info(Version version) {
  TaskInfo info;
  info.id = versioned_id("InvertedDoublePendulum", version);
  info.builtin_file = "inverted_double_pendulum.xml";
  info.nq = 3;
  info.nv = 3;
  info.nu = 1;
  info.frame_skip = 5;
  info.max_episode_steps = 1000;
  info.reward_threshold = 9100.0;
  return info;
}

class InvertedDoublePendulum final : public MujocoEnv {
 public:
  InvertedDoublePendulum(const EnvOptions& options, Version version)
      : MujocoEnv(double_pendulum_info(version), options), version_(version) {
    ParamReader params(info_.id, options.params);
    healthy_reward_ = params.number("healthy_reward", 10.0);
    noise_ = params.number("reset_noise_scale", 0.1, 0.0);
    params.finish();
    require_joint_at("slider", 0);
    require_joint_at("hinge", 1);
    require_joint_at("hinge2", 2);
    tip_ = site_id("tip");
    set_obs_dim(version == Version::kV4 ? 11 : 9);
    terms_ = {{"alive", 0.0}, {"distance_cost", 0.0}, {"velocity_cost", 0.0}};
  }

 protected:
  void add_reset_noise(double* qpos, double* qvel) override {
    for (int i = 0; i < 3; ++i) qpos[i] += rng_.uniform(-noise_, noise_);
    for (int i = 0; i < 3; ++i) qvel[i] += noise_ * rng_.normal();
  }

  void evaluate(const double*, StepResult& result) override {
    const mjData* d = data_.get();
    const double x = d->site_xpos[3 * tip_];
    const double z = d->site_xpos[3 * tip_ + 2];
    const double dist = 0.01 * x * x + (z - 2.0) * (z - 2.0);
    const double vel = 1e-3 * d->qvel[1] * d->qvel[1] + 5e-3 * d->qvel[2] * d->qvel[2];
    result.terminated = z <= 1.0;
    const double alive = (result.terminated && version_ == Version::kV5) ? 0.0 : healthy_reward_;
    result.reward = alive - dist - vel;
    terms_[0].second = alive;
    terms_[1].second = -dist;
    terms_[2].second = -vel;
  }

  void write_obs(double* obs) const override {
    const mjData* d = data_.get();
    obs[0] = d->qpos[0];
    obs[1] = std::sin(d->qpos[1]);
    obs[2] = std::sin(d->qpos[2]);
    obs[3] = std::cos(d->qpos[1]);
    obs[4] = std::cos(d->qpos[2]);
    double* out = copy_clipped(d->qvel, 3, -10.0, 10.0, obs + 5);
    copy_clipped(d->qfrc_constraint, version_ == Version::kV4 ? 3 : 1, -10.0, 10.0, out);
  }

 private:
  Version version_;
  double healthy_reward_ = 10.0;
  double noise_ = 0.1;
  int tip_ = 0;
};

}  // namespace

std::unique_ptr<Env> make_inverted_double_pendulum(const EnvOptions& options, Version version) {
  return std::make_unique<InvertedDoublePendulum>(options, version);
}

}  // namespace graybox::envs
