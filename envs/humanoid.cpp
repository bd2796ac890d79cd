// Humanoid-v5 / -v4 and HumanoidStandup-v5 / -v4: a 3D humanoid on a free joint `root`
// (q0..6) with 17 hinges (abdomen_z/y/x, right_hip_x/z/y, right_knee, left likewise,
// right_shoulder1/2, right_elbow, left likewise); 14 bodies with the world.
//   obs v5 (348): [q2..23 (22), qd (23), cinert[1:] (130), cvel[1:] (78), qfrc_actuator[6:] (17),
//                  cfrc_ext[1:] (78)]; include_cinert/cvel/qfrc_actuator/cfrc_ext_in_observation=0
//                  removes a block; exclude_current_positions_from_observation=0 adds q0, q1
//   obs v4 (376): [q2..23, qd, cinert (140), cvel (84), qfrc_actuator (23), cfrc_ext (84)]
// Humanoid:
//   reward: forward_reward_weight (1.25) * (com_x_after - com_x_before) / dt + healthy
//           - ctrl_cost_weight (0.1) * |ctrl|^2 - min(contact_cost_weight (5e-7) * sum cfrc_ext^2,
//           contact_cost_max (10)); com = mass-weighted mean of xipos.
//           v5: healthy = healthy_reward (5) if healthy; v4: paid on every step while
//           terminate_when_unhealthy (terminal included), and no contact cost
//   healthy (strict): healthy_z_min < q2 < healthy_z_max (1.0, 2.0)
//   terminated: not healthy, when terminate_when_unhealthy
// HumanoidStandup (v4 = v5 apart from the observation):
//   reward: q2 / opt.timestep (not dt, as Gymnasium) + 1 - ctrl_cost_weight (0.1) * |ctrl|^2
//           - min(impact_cost_weight (0.5e-6) * sum cfrc_ext^2, impact_cost_max (10))
//   terminated: never. Gymnasium stores `uph_cost_weight` but never uses it: graybox accepts it
//   only at its default 1, so that a config cannot silently expect an effect.
// Both: reset qpos, qvel += U(+-reset_noise_scale), default 1e-2 (quaternion not renormalised).
#include <cmath>

#include "envs/mujoco_env.hpp"
#include "envs/task_util.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

TaskInfo humanoid_info(const char* name, const char* file, Version version) {
  TaskInfo info;
  info.id = versioned_id(name, version);
  info.builtin_file = file;
  info.nq = 24;
  info.nv = 23;
  info.nu = 17;
  info.frame_skip = 5;
  info.max_episode_steps = 1000;
  info.reward_threshold = 0.0;  // none registered
  return info;
}

// The observation and the layout checks shared by both tasks.
class HumanoidBase : public MujocoEnv {
 protected:
  HumanoidBase(const TaskInfo& info, const EnvOptions& options, Version version)
      : MujocoEnv(info, options), version_(version) {}

  // Reads the observation options and checks the model's joint layout.
  void setup_observation(ParamReader& params) {
    exclude_xy_ = params.flag("exclude_current_positions_from_observation", true);
    if (version_ == Version::kV5) {
      cinert_ = params.flag("include_cinert_in_observation", true);
      cvel_ = params.flag("include_cvel_in_observation", true);
      qfrc_ = params.flag("include_qfrc_actuator_in_observation", true);
      cfrc_ = params.flag("include_cfrc_ext_in_observation", true);
    }
    const char* hinges[] = {"abdomen_z",       "abdomen_y",       "abdomen_x",   "right_hip_x",
                            "right_hip_z",     "right_hip_y",     "right_knee",  "left_hip_x",
                            "left_hip_z",      "left_hip_y",      "left_knee",   "right_shoulder1",
                            "right_shoulder2", "right_elbow",     "left_shoulder1",
                            "left_shoulder2",  "left_elbow"};
    require_joint_at("root", 0);
    for (int i = 0; i < 17; ++i) require_joint_at(hinges[i], 7 + i);
    torso_ = body_id("torso");
    nbody_ = model_->nbody;
    first_body_ = version_ == Version::kV4 ? 0 : 1;
    first_dof_ = version_ == Version::kV4 ? 0 : 6;
    const int rows = nbody_ - first_body_;
    int dim = (exclude_xy_ ? 22 : 24) + 23;
    if (cinert_) dim += 10 * rows;
    if (cvel_) dim += 6 * rows;
    if (qfrc_) dim += 23 - first_dof_;
    if (cfrc_) dim += 6 * rows;
    set_obs_dim(dim);
  }

  void add_reset_noise(double* qpos, double* qvel) override {
    for (int i = 0; i < 24; ++i) qpos[i] += rng_.uniform(-noise_, noise_);
    for (int i = 0; i < 23; ++i) qvel[i] += rng_.uniform(-noise_, noise_);
  }

  void write_obs(double* obs) const override {
    const mjData* d = data_.get();
    const int first = exclude_xy_ ? 2 : 0;
    const int rows = nbody_ - first_body_;
    double* out = copy_values(d->qpos + first, 24 - first, obs);
    out = copy_values(d->qvel, 23, out);
    if (cinert_) out = copy_values(d->cinert + 10 * first_body_, 10 * rows, out);
    if (cvel_) out = copy_values(d->cvel + 6 * first_body_, 6 * rows, out);
    if (qfrc_) out = copy_values(d->qfrc_actuator + first_dof_, 23 - first_dof_, out);
    if (cfrc_) copy_values(d->cfrc_ext + 6 * first_body_, 6 * rows, out);
  }

  double ctrl_squares() const { return sum_squares(data_->ctrl, 17); }
  double cfrc_squares() const { return sum_squares(data_->cfrc_ext, 6 * nbody_); }

  Version version_;
  double noise_ = 1e-2;
  int torso_ = 1;
  int nbody_ = 14;

 private:
  bool exclude_xy_ = true;
  bool cinert_ = true, cvel_ = true, qfrc_ = true, cfrc_ = true;
  int first_body_ = 1;
  int first_dof_ = 6;
};

class Humanoid final : public HumanoidBase {
 public:
  Humanoid(const EnvOptions& options, Version version)
      : HumanoidBase(humanoid_info("Humanoid", "humanoid.xml", version), options, version) {
    ParamReader params(info_.id, options.params);
    forward_weight_ = params.number("forward_reward_weight", 1.25);
    ctrl_weight_ = params.number("ctrl_cost_weight", 0.1, 0.0);
    if (version == Version::kV5) {
      contact_weight_ = params.number("contact_cost_weight", 5e-7, 0.0);
      contact_max_ = params.number("contact_cost_max", 10.0, 0.0);
    }
    healthy_reward_ = params.number("healthy_reward", 5.0);
    terminate_when_unhealthy_ = params.flag("terminate_when_unhealthy", true);
    z_min_ = params.number("healthy_z_min", 1.0);
    z_max_ = params.number("healthy_z_max", 2.0);
    noise_ = params.number("reset_noise_scale", 1e-2, 0.0);
    setup_observation(params);
    params.finish();
    total_mass_ = 0.0;
    for (int b = 0; b < model_->nbody; ++b) total_mass_ += model_->body_mass[b];
    terms_ = {{"forward", 0.0}, {"healthy", 0.0}, {"ctrl_cost", 0.0}, {"contact_cost", 0.0}};
  }

 protected:
  double com_x() const {
    double s = 0.0;
    for (int b = 0; b < model_->nbody; ++b) s += model_->body_mass[b] * data_->xipos[3 * b];
    return s / total_mass_;
  }

  void before_step() override { com_before_ = com_x(); }

  void evaluate(const double*, StepResult& result) override {
    const double forward = forward_weight_ * (com_x() - com_before_) / spec_.dt;
    const double z = data_->qpos[2];
    const bool healthy = z_min_ < z && z < z_max_;
    const bool paid = healthy || (version_ == Version::kV4 && terminate_when_unhealthy_);
    const double healthy_term = paid ? healthy_reward_ : 0.0;
    const double ctrl_cost = ctrl_weight_ * ctrl_squares();
    const double contact_cost =
        version_ == Version::kV5 ? std::fmin(contact_weight_ * cfrc_squares(), contact_max_) : 0.0;
    result.reward = forward + healthy_term - ctrl_cost - contact_cost;
    result.terminated = terminate_when_unhealthy_ && !healthy;
    terms_[0].second = forward;
    terms_[1].second = healthy_term;
    terms_[2].second = -ctrl_cost;
    terms_[3].second = -contact_cost;
  }

 private:
  double forward_weight_ = 1.25;
  double ctrl_weight_ = 0.1;
  double contact_weight_ = 5e-7;
  double contact_max_ = 10.0;
  double healthy_reward_ = 5.0;
  bool terminate_when_unhealthy_ = true;
  double z_min_ = 1.0, z_max_ = 2.0;
  double total_mass_ = 1.0;
  double com_before_ = 0.0;
};

class HumanoidStandup final : public HumanoidBase {
 public:
  HumanoidStandup(const EnvOptions& options, Version version)
      : HumanoidBase(humanoid_info("HumanoidStandup", "humanoidstandup.xml", version), options, version) {
    ParamReader params(info_.id, options.params);
    if (version == Version::kV5) params.number("uph_cost_weight", 1.0, 1.0, 1.0);
    ctrl_weight_ = params.number("ctrl_cost_weight", 0.1, 0.0);
    impact_weight_ = params.number("impact_cost_weight", 0.5e-6, 0.0);
    impact_max_ = params.number("impact_cost_max", 10.0, 0.0);
    noise_ = params.number("reset_noise_scale", 1e-2, 0.0);
    setup_observation(params);
    params.finish();
    terms_ = {{"uph", 0.0}, {"alive", 0.0}, {"ctrl_cost", 0.0}, {"impact_cost", 0.0}};
  }

 protected:
  void evaluate(const double*, StepResult& result) override {
    const double uph = data_->qpos[2] / timestep_;
    const double ctrl_cost = ctrl_weight_ * ctrl_squares();
    const double impact_cost = std::fmin(impact_weight_ * cfrc_squares(), impact_max_);
    result.reward = uph + 1.0 - ctrl_cost - impact_cost;
    result.terminated = false;
    terms_[0].second = uph;
    terms_[1].second = 1.0;
    terms_[2].second = -ctrl_cost;
    terms_[3].second = -impact_cost;
  }

 private:
  double ctrl_weight_ = 0.1;
  double impact_weight_ = 0.5e-6;
  double impact_max_ = 10.0;
};

}  // namespace

std::unique_ptr<Env> make_humanoid(const EnvOptions& options, Version version) {
  return std::make_unique<Humanoid>(options, version);
}

std::unique_ptr<Env> make_humanoid_standup(const EnvOptions& options, Version version) {
  return std::make_unique<HumanoidStandup>(options, version);
}

}  // namespace graybox::envs
