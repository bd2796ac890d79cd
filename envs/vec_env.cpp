#include "envs/vec_env.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <string>

#include "core/rng.hpp"
#include "envs/mujoco_env.hpp"

namespace graybox::envs {

struct VecEnv::Impl {
  std::vector<std::unique_ptr<Env>> envs;
  EnvSpec spec;
  int num_envs = 0;
  std::uint64_t seed = 0;
  int num_threads = 1;
  std::unique_ptr<tbb::task_arena> arena;
  bool was_reset = false;

  std::vector<double> obs;
  VecStepResult result;
  // Per env slot, written by the worker that steps the env; read afterwards in index order.
  std::vector<EpisodeEnd> ends;
  std::vector<std::uint8_t> ended;
  std::int64_t unstable_episodes = 0;

  // Runs fn(i) for every env index, in parallel unless num_threads == 1.
  template <typename Fn>
  void for_each_env(const Fn& fn) {
    if (!arena) {
      for (int i = 0; i < num_envs; ++i) fn(i);
      return;
    }
    // One contiguous block of envs per thread (static partition): envs of one task cost about
    // the same, and it avoids work-stealing traffic on every step.
    arena->execute([&] {
      tbb::parallel_for(tbb::blocked_range<int>(0, num_envs), [&](const tbb::blocked_range<int>& r) {
        for (int i = r.begin(); i != r.end(); ++i) fn(i);
      }, tbb::static_partitioner());
    });
  }

  void refresh_obs(int i) {
    if (auto* m = dynamic_cast<MujocoEnv*>(envs[static_cast<std::size_t>(i)].get())) {
      m->observe(obs.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(spec.obs_dim));
    }
  }
};

VecEnv::VecEnv(const std::string& id, const EnvOptions& options, int num_envs,
               std::uint64_t seed, int num_threads)
    : impl_(std::make_unique<Impl>()) {
  if (num_envs < 1) throw EnvError("VecEnv: num_envs must be at least 1, got " + std::to_string(num_envs));
  Impl& s = *impl_;
  s.num_envs = num_envs;
  s.seed = seed;
  s.num_threads = num_threads;
  s.envs.reserve(static_cast<std::size_t>(num_envs));
  for (int i = 0; i < num_envs; ++i) s.envs.push_back(make_env(id, options));
  s.spec = s.envs.front()->spec();
  if (num_threads != 1) {
    s.arena = num_threads > 0 ? std::make_unique<tbb::task_arena>(num_threads)
                              : std::make_unique<tbb::task_arena>();
  }
  const auto n = static_cast<std::size_t>(num_envs);
  const auto od = static_cast<std::size_t>(s.spec.obs_dim);
  s.obs.assign(n * od, 0.0);
  s.result.obs.assign(n * od, 0.0);
  s.result.final_obs.assign(n * od, 0.0);
  s.result.rewards.assign(n, 0.0);
  s.result.terminated.assign(n, 0);
  s.result.truncated.assign(n, 0);
  s.result.episodes.reserve(n);
  s.ends.assign(n, EpisodeEnd{});
  s.ended.assign(n, 0);
  for (int i = 0; i < num_envs; ++i) s.refresh_obs(i);
}

VecEnv::~VecEnv() = default;

const EnvSpec& VecEnv::spec() const { return impl_->spec; }
int VecEnv::num_envs() const { return impl_->num_envs; }
const std::vector<double>& VecEnv::observations() const { return impl_->obs; }
std::int64_t VecEnv::unstable_episodes() const { return impl_->unstable_episodes; }

Env& VecEnv::env(int index) {
  if (index < 0 || index >= impl_->num_envs) {
    throw EnvError("VecEnv: env index " + std::to_string(index) + " out of range");
  }
  return *impl_->envs[static_cast<std::size_t>(index)];
}

const std::vector<double>& VecEnv::reset() {
  Impl& s = *impl_;
  const auto od = static_cast<std::size_t>(s.spec.obs_dim);
  s.for_each_env([&](int i) {
    const auto k = static_cast<std::size_t>(i);
    s.envs[k]->reset(core::derive_seed(s.seed, core::Stream::kEnv, k), s.obs.data() + k * od);
  });
  s.was_reset = true;
  return s.obs;
}

const VecStepResult& VecEnv::step(const std::vector<double>& actions) {
  Impl& s = *impl_;
  const auto n = static_cast<std::size_t>(s.num_envs);
  const auto od = static_cast<std::size_t>(s.spec.obs_dim);
  const auto ad = static_cast<std::size_t>(s.spec.act_dim);
  if (actions.size() != n * ad) {
    throw EnvError("VecEnv::step: expected " + std::to_string(n * ad) + " action values, got " +
                   std::to_string(actions.size()));
  }
  if (!s.was_reset) reset();

  VecStepResult& out = s.result;
  s.for_each_env([&](int i) {
    const auto k = static_cast<std::size_t>(i);
    Env& env = *s.envs[k];
    double* obs = s.obs.data() + k * od;
    const StepResult r = env.step(actions.data() + k * ad, obs);
    out.rewards[k] = r.reward;
    out.terminated[k] = r.terminated ? 1 : 0;
    out.truncated[k] = r.truncated ? 1 : 0;
    std::copy(obs, obs + od, out.final_obs.data() + k * od);
    if (r.terminated || r.truncated) {
      EpisodeEnd& e = s.ends[k];
      e.env_index = i;
      e.episode_return = env.episode_return();
      e.episode_length = env.episode_length();
      e.terminated = r.terminated;
      e.truncated = r.truncated;
      e.unstable = r.unstable;
      s.ended[k] = 1;
      env.reset(obs);  // continues the env's own random stream
    } else {
      s.ended[k] = 0;
    }
  });

  out.episodes.clear();
  for (std::size_t k = 0; k < n; ++k) {
    if (s.ended[k]) {
      out.episodes.push_back(s.ends[k]);
      if (s.ends[k].unstable) ++s.unstable_episodes;
    }
  }
  out.obs = s.obs;
  return out;
}

std::vector<EnvState> VecEnv::state() const {
  std::vector<EnvState> states;
  states.reserve(impl_->envs.size());
  for (const auto& env : impl_->envs) states.push_back(env->state());
  return states;
}

void VecEnv::set_state(const std::vector<EnvState>& states) {
  Impl& s = *impl_;
  if (states.size() != s.envs.size()) {
    throw EnvError("VecEnv::set_state: " + std::to_string(states.size()) + " states for " +
                   std::to_string(s.envs.size()) + " envs");
  }
  for (std::size_t k = 0; k < states.size(); ++k) {
    s.envs[k]->set_state(states[k]);
    s.refresh_obs(static_cast<int>(k));
  }
  s.was_reset = true;
}

}  // namespace graybox::envs
