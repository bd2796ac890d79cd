// Helpers shared by the env tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "envs/env.hpp"
#include "envs/mujoco_env.hpp"

namespace graybox::envs::testing {

inline MujocoEnv& as_mujoco(Env& env) {
  auto* m = dynamic_cast<MujocoEnv*>(&env);
  if (m == nullptr) throw std::runtime_error("not a MujocoEnv");
  return *m;
}

// Writes text to a fresh file in the test temp directory and returns its path.
inline std::string write_temp_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "graybox_envs_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream out(path);
  out << text;
  return path;
}

// Bitwise equality of two doubles (distinguishes -0 and +0, equal NaNs compare equal).
inline bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

inline bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same_bits(a[i], b[i])) return false;
  }
  return true;
}

// Random actions inside the spec's bounds.
inline std::vector<double> random_action(const EnvSpec& spec, core::Rng& rng) {
  std::vector<double> a(static_cast<std::size_t>(spec.act_dim));
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = rng.uniform(spec.act_low[i], spec.act_high[i]);
  return a;
}

inline double sum_terms(const RewardTerms& terms) {
  double s = 0.0;
  for (const auto& t : terms) s += t.second;
  return s;
}

inline double term(const RewardTerms& terms, const std::string& name) {
  for (const auto& t : terms) {
    if (t.first == name) return t.second;
  }
  ADD_FAILURE() << "no reward term named " << name;
  return 0.0;
}

// Volume of a capsule of radius r and half-length h (mass at density 1000 = 1000 * volume).
inline double capsule_volume(double r, double h) {
  const double pi = 3.14159265358979323846;
  return pi * r * r * 2.0 * h + 4.0 / 3.0 * pi * r * r * r;
}

// Resets (seed 1), puts the given qpos/qvel in place (empty: keep the reset values), steps once
// with the action and returns the result; obs receives the observation.
inline StepResult step_from(Env& env, const std::vector<double>& qpos, const std::vector<double>& qvel,
                            const std::vector<double>& action, std::vector<double>* obs_out = nullptr) {
  std::vector<double> obs(static_cast<std::size_t>(env.spec().obs_dim));
  env.reset(1, obs.data());
  EnvState s = env.state();
  if (!qpos.empty()) s.qpos = qpos;
  if (!qvel.empty()) s.qvel = qvel;
  env.set_state(s);
  const StepResult r = env.step(action.data(), obs.data());
  if (obs_out != nullptr) *obs_out = obs;
  return r;
}

inline double norm3(const double* a, const double* b) {
  const double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
  return std::sqrt(dx * dx + dy * dy + dz * dz);
}

inline int body(const mjModel* m, const char* name) { return mj_name2id(m, mjOBJ_BODY, name); }

// A task's env with parameter overrides.
inline std::unique_ptr<Env> make_with(const std::string& id, std::map<std::string, double> params) {
  EnvOptions options;
  options.params = std::move(params);
  return make_env(id, options);
}

}  // namespace graybox::envs::testing
