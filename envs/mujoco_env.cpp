#include "envs/mujoco_env.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>

#include "envs/embedded_models.hpp"

namespace graybox::envs {
namespace {

// MuJoCo's default warning handler prints to stdout and appends to MUJOCO_LOG.TXT in the
// working directory. Envs detect warnings through mjData::warning and report them as unstable
// steps, so the text adds nothing; a handler that a program installed itself is kept.
void quiet_warning(const char*) {}

void install_warning_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (mju_user_warning == nullptr) mju_user_warning = quiet_warning;
  });
}

struct VfsDeleter {
  void operator()(mjVFS* vfs) const {
    mj_deleteVFS(vfs);
    delete vfs;
  }
};

std::string trim(const char* text) {
  std::string s(text);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

ModelPtr load_model(const std::string& builtin_file, const std::string& model_path) {
  install_warning_handler();
  // The XML parser and model compiler are not documented as thread-safe in MuJoCo 2.2.2:
  // envs built on several threads at once (parallel trials) load one at a time.
  static std::mutex load_mutex;
  const std::lock_guard<std::mutex> lock(load_mutex);
  char error[1024] = {0};
  mjModel* model = nullptr;
  if (model_path.empty()) {
    const unsigned char* bytes = nullptr;
    std::size_t size = 0;
    if (!embedded_model(builtin_file, &bytes, &size)) {
      throw EnvError("no built-in model file '" + builtin_file + "'");
    }
    // mjVFS holds fixed-size name tables (about 2 MB): keep it off the stack.
    std::unique_ptr<mjVFS, VfsDeleter> vfs(new mjVFS);
    mj_defaultVFS(vfs.get());
    if (mj_makeEmptyFileVFS(vfs.get(), builtin_file.c_str(), static_cast<int>(size)) != 0) {
      throw EnvError("built-in model file '" + builtin_file + "': cannot create VFS entry");
    }
    const int index = mj_findFileVFS(vfs.get(), builtin_file.c_str());
    if (index < 0) throw EnvError("built-in model file '" + builtin_file + "': VFS lookup failed");
    std::memcpy(vfs->filedata[index], bytes, size);
    model = mj_loadXML(builtin_file.c_str(), vfs.get(), error, sizeof(error));
    if (model == nullptr) {
      throw EnvError("built-in model file '" + builtin_file + "': " + trim(error));
    }
  } else {
    std::ifstream probe(model_path);
    if (!probe) throw EnvError("model file '" + model_path + "': cannot open");
    probe.close();
    model = mj_loadXML(model_path.c_str(), nullptr, error, sizeof(error));
    if (model == nullptr) throw EnvError("model file '" + model_path + "': " + trim(error));
  }
  return ModelPtr(model);
}

// ---------------------------------------------------------------------------------------------

ParamReader::ParamReader(std::string env_id, const std::map<std::string, double>& params)
    : env_id_(std::move(env_id)), params_(params) {}

double ParamReader::number(const std::string& name, double default_value, double low,
                           double high) {
  known_.push_back(name);
  const auto it = params_.find(name);
  if (it == params_.end()) return default_value;
  const double v = it->second;
  if (!std::isfinite(v) || v < low || v > high) {
    std::ostringstream msg;
    msg.precision(17);
    msg << env_id_ << ": parameter '" << name << "' = " << v << " is invalid";
    if (std::isfinite(low) || std::isfinite(high)) msg << " (allowed: [" << low << ", " << high << "])";
    else msg << " (must be finite)";
    throw EnvError(msg.str());
  }
  return v;
}

bool ParamReader::flag(const std::string& name, bool default_value) {
  known_.push_back(name);
  const auto it = params_.find(name);
  if (it == params_.end()) return default_value;
  if (it->second != 0.0 && it->second != 1.0) {
    std::ostringstream msg;
    msg.precision(17);
    msg << env_id_ << ": parameter '" << name << "' = " << it->second
        << " is invalid (allowed: 0 or 1)";
    throw EnvError(msg.str());
  }
  return it->second == 1.0;
}

void ParamReader::finish() const {
  for (const auto& [name, value] : params_) {
    (void)value;
    if (std::find(known_.begin(), known_.end(), name) == known_.end()) {
      std::string msg = env_id_ + ": unknown parameter '" + name + "' (known:";
      for (const auto& k : known_) msg += " " + k;
      if (known_.empty()) msg += " none";
      throw EnvError(msg + ")");
    }
  }
}

// ---------------------------------------------------------------------------------------------

MujocoEnv::MujocoEnv(const TaskInfo& info, const EnvOptions& options) : info_(info) {
  model_name_ = options.model_path.empty() ? info.builtin_file + " (built in)" : options.model_path;
  model_ = load_model(info.builtin_file, options.model_path);
  const mjModel* m = model_.get();
  if (m->nq != info.nq || m->nv != info.nv || m->nu != info.nu) {
    std::ostringstream msg;
    msg << "model file '" << model_name_ << "': " << info.id << " needs nq=" << info.nq
        << " nv=" << info.nv << " nu=" << info.nu << ", the model has nq=" << m->nq
        << " nv=" << m->nv << " nu=" << m->nu;
    throw EnvError(msg.str());
  }
  data_.reset(mj_makeData(m));
  if (!data_) throw EnvError("model file '" + model_name_ + "': mj_makeData failed");
  prev_qpos_.resize(static_cast<std::size_t>(m->nq));
  prev_qvel_.resize(static_cast<std::size_t>(m->nv));
  prev_act_.resize(static_cast<std::size_t>(m->na));
  prev_warmstart_.resize(static_cast<std::size_t>(m->nv));

  timestep_ = m->opt.timestep;
  spec_.id = info.id;
  spec_.act_dim = m->nu;
  spec_.act_low.resize(m->nu);
  spec_.act_high.resize(m->nu);
  for (int i = 0; i < m->nu; ++i) {
    const bool limited = m->actuator_ctrllimited[i] != 0;
    spec_.act_low[i] = limited ? m->actuator_ctrlrange[2 * i] : -std::numeric_limits<double>::infinity();
    spec_.act_high[i] = limited ? m->actuator_ctrlrange[2 * i + 1] : std::numeric_limits<double>::infinity();
  }
  spec_.frame_skip = info.frame_skip;
  spec_.dt = m->opt.timestep * info.frame_skip;
  spec_.max_episode_steps = info.max_episode_steps;
  spec_.reward_threshold = info.reward_threshold;
  reset_physics();
}

MujocoEnv::~MujocoEnv() = default;

int MujocoEnv::joint_id(const std::string& name) const {
  const int id = mj_name2id(model_.get(), mjOBJ_JOINT, name.c_str());
  if (id < 0) {
    throw EnvError("model file '" + model_name_ + "': no joint named '" + name + "' (" + info_.id +
                   " needs it)");
  }
  return id;
}

int MujocoEnv::body_id(const std::string& name) const {
  const int id = mj_name2id(model_.get(), mjOBJ_BODY, name.c_str());
  if (id < 0) {
    throw EnvError("model file '" + model_name_ + "': no body named '" + name + "' (" + info_.id +
                   " needs it)");
  }
  return id;
}

int MujocoEnv::site_id(const std::string& name) const {
  const int id = mj_name2id(model_.get(), mjOBJ_SITE, name.c_str());
  if (id < 0) {
    throw EnvError("model file '" + model_name_ + "': no site named '" + name + "' (" + info_.id +
                   " needs it)");
  }
  return id;
}

int MujocoEnv::require_joint_at(const std::string& name, int expected_qpos) const {
  const int id = joint_id(name);
  const int adr = model_->jnt_qposadr[id];
  if (adr != expected_qpos) {
    throw EnvError("model file '" + model_name_ + "': joint '" + name + "' is at qpos[" +
                   std::to_string(adr) + "], " + info_.id + " needs it at qpos[" +
                   std::to_string(expected_qpos) + "]");
  }
  return adr;
}

void MujocoEnv::reset_physics() {
  mj_resetData(model_.get(), data_.get());
  mj_forward(model_.get(), data_.get());
  has_prev_ = false;
  elapsed_steps_ = 0;
  episode_return_ = 0.0;
  episode_length_ = 0;
}

void MujocoEnv::zero_terms() {
  for (auto& term : terms_) term.second = 0.0;
}

void MujocoEnv::reset(std::uint64_t seed, double* obs) {
  rng_.seed(seed);
  reset(obs);
}

void MujocoEnv::reset(double* obs) {
  const mjModel* m = model_.get();
  mjData* d = data_.get();
  mj_resetData(m, d);  // qpos = qpos0, qvel = 0, time = 0, warmstart = 0, warnings cleared
  add_reset_noise(d->qpos, d->qvel);
  mj_forward(m, d);
  has_prev_ = false;
  elapsed_steps_ = 0;
  episode_return_ = 0.0;
  episode_length_ = 0;
  zero_terms();
  write_obs(obs);
}

bool MujocoEnv::state_is_bad() const {
  const mjModel* m = model_.get();
  const mjData* d = data_.get();
  for (int i = 0; i < m->nq; ++i) {
    if (!(std::fabs(d->qpos[i]) <= mjMAXVAL)) return true;  // also catches NaN
  }
  for (int i = 0; i < m->nv; ++i) {
    if (!(std::fabs(d->qvel[i]) <= mjMAXVAL)) return true;
  }
  for (int i = 0; i < mjNWARNING; ++i) {
    if (d->warning[i].number > 0) return true;
  }
  return false;
}

void MujocoEnv::sanitize(double* obs) const {
  for (int i = 0; i < spec_.obs_dim; ++i) {
    if (!std::isfinite(obs[i])) obs[i] = 0.0;
  }
}

StepResult MujocoEnv::step(const double* action, double* obs) {
  const mjModel* m = model_.get();
  mjData* d = data_.get();
  StepResult result;
  ++elapsed_steps_;
  ++episode_length_;

  bool finite_action = true;
  for (int i = 0; i < m->nu; ++i) {
    if (!std::isfinite(action[i])) finite_action = false;
  }

  if (!finite_action) {
    zero_terms();
    result.truncated = true;
    result.unstable = true;
    write_obs(obs);
    sanitize(obs);
  } else {
    before_step();
    for (int i = 0; i < m->nu; ++i) d->ctrl[i] = action[i];
    // Count only this step's warnings (the counters are statistics, not simulation state).
    for (int i = 0; i < mjNWARNING; ++i) d->warning[i].number = 0;
    for (int k = 0; k + 1 < info_.frame_skip; ++k) mj_step(m, d);
    // Keep the start state of the last mj_step, from which state()/set_state() rebuild the
    // derived quantities that lag behind qpos.
    std::copy(d->qpos, d->qpos + m->nq, prev_qpos_.begin());
    std::copy(d->qvel, d->qvel + m->nv, prev_qvel_.begin());
    std::copy(d->act, d->act + m->na, prev_act_.begin());
    std::copy(d->qacc_warmstart, d->qacc_warmstart + m->nv, prev_warmstart_.begin());
    prev_time_ = d->time;
    has_prev_ = true;
    mj_step(m, d);
    mj_rnePostConstraint(m, d);

    if (state_is_bad()) {
      zero_terms();
      result.truncated = true;
      result.unstable = true;
      write_obs(obs);
      sanitize(obs);
    } else {
      evaluate(action, result);
      write_obs(obs);
      if (!std::isfinite(result.reward)) {
        // Cannot happen with finite states and actions; kept as a last guard.
        result.reward = 0.0;
        zero_terms();
        result.terminated = false;
        result.truncated = true;
        result.unstable = true;
        sanitize(obs);
      }
    }
  }

  if (elapsed_steps_ >= info_.max_episode_steps) result.truncated = true;
  episode_return_ += result.reward;
  return result;
}

EnvState MujocoEnv::state() const {
  const mjModel* m = model_.get();
  const mjData* d = data_.get();
  EnvState s;
  s.qpos.assign(d->qpos, d->qpos + m->nq);
  s.qvel.assign(d->qvel, d->qvel + m->nv);
  s.act.assign(d->act, d->act + m->na);
  s.ctrl.assign(d->ctrl, d->ctrl + m->nu);
  s.time = d->time;
  s.elapsed_steps = elapsed_steps_;
  s.episode_return = episode_return_;
  s.episode_length = episode_length_;
  s.rng = rng_.state();
  s.extra.assign(d->qacc_warmstart, d->qacc_warmstart + m->nv);
  if (has_prev_) {
    s.extra.push_back(1.0);
    s.extra.insert(s.extra.end(), prev_qpos_.begin(), prev_qpos_.end());
    s.extra.insert(s.extra.end(), prev_qvel_.begin(), prev_qvel_.end());
    s.extra.insert(s.extra.end(), prev_act_.begin(), prev_act_.end());
    s.extra.insert(s.extra.end(), prev_warmstart_.begin(), prev_warmstart_.end());
    s.extra.push_back(prev_time_);
  }
  return s;
}

void MujocoEnv::set_state(const EnvState& s) {
  const mjModel* m = model_.get();
  mjData* d = data_.get();
  auto check = [&](const char* what, std::size_t got, int want) {
    if (got != static_cast<std::size_t>(want)) {
      throw EnvError(info_.id + ": env state has " + std::to_string(got) + " " + what +
                     " values, the model needs " + std::to_string(want));
    }
  };
  check("qpos", s.qpos.size(), m->nq);
  check("qvel", s.qvel.size(), m->nv);
  check("act", s.act.size(), m->na);
  check("ctrl", s.ctrl.size(), m->nu);
  const std::size_t nv = static_cast<std::size_t>(m->nv);
  const std::size_t with_prev = 2 * nv + 1 + static_cast<std::size_t>(m->nq + m->nv + m->na) + 1;
  if (s.extra.size() != nv && s.extra.size() != with_prev) {
    throw EnvError(info_.id + ": env state has " + std::to_string(s.extra.size()) +
                   " extra values, the model needs " + std::to_string(nv) + " or " +
                   std::to_string(with_prev));
  }
  const bool restore_prev = s.extra.size() == with_prev;
  core::Rng rng;
  try {
    rng.set_state(s.rng);
  } catch (const std::exception& e) {
    throw EnvError(info_.id + ": env state has a corrupt RNG state");
  }

  mj_resetData(m, d);
  std::copy(s.ctrl.begin(), s.ctrl.end(), d->ctrl);
  has_prev_ = restore_prev;
  if (restore_prev) {
    // Re-run the last mj_step from its start state, so that every derived quantity is what the
    // original env holds; then put the saved state itself in place (the same values when the
    // state came from this build of MuJoCo).
    auto it = s.extra.begin() + static_cast<std::ptrdiff_t>(nv + 1);
    auto take = [&it](std::vector<double>& dst) {
      std::copy(it, it + static_cast<std::ptrdiff_t>(dst.size()), dst.begin());
      it += static_cast<std::ptrdiff_t>(dst.size());
    };
    take(prev_qpos_);
    take(prev_qvel_);
    take(prev_act_);
    take(prev_warmstart_);
    prev_time_ = *it;
    std::copy(prev_qpos_.begin(), prev_qpos_.end(), d->qpos);
    std::copy(prev_qvel_.begin(), prev_qvel_.end(), d->qvel);
    std::copy(prev_act_.begin(), prev_act_.end(), d->act);
    std::copy(prev_warmstart_.begin(), prev_warmstart_.end(), d->qacc_warmstart);
    d->time = prev_time_;
    mj_step(m, d);
    mj_rnePostConstraint(m, d);
    std::copy(s.qpos.begin(), s.qpos.end(), d->qpos);
    std::copy(s.qvel.begin(), s.qvel.end(), d->qvel);
    std::copy(s.act.begin(), s.act.end(), d->act);
    d->time = s.time;
  } else {
    std::copy(s.qpos.begin(), s.qpos.end(), d->qpos);
    std::copy(s.qvel.begin(), s.qvel.end(), d->qvel);
    std::copy(s.act.begin(), s.act.end(), d->act);
    d->time = s.time;
    mj_forward(m, d);
  }
  std::copy(s.extra.begin(), s.extra.begin() + static_cast<std::ptrdiff_t>(nv), d->qacc_warmstart);
  for (int i = 0; i < mjNWARNING; ++i) d->warning[i].number = 0;

  elapsed_steps_ = s.elapsed_steps;
  episode_return_ = s.episode_return;
  episode_length_ = s.episode_length;
  rng_ = rng;
}

}  // namespace graybox::envs
