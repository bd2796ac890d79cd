// bench_env_step [N]: env step throughput of every registered task against raw MuJoCo.
// For each task: N env steps with random actions (auto-reset at episode ends), then N raw
// steps of the same model (ctrl = random action, mj_step x frame_skip, mj_rnePostConstraint,
// reset at the same step counts). Then VecEnv on HalfCheetah-v5 (16 envs) with 1 and 2
// threads. N defaults to 200000.
#include <mujoco/mujoco.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "envs/env.hpp"
#include "envs/mujoco_env.hpp"
#include "envs/vec_env.hpp"

namespace {

using graybox::core::Rng;
using graybox::envs::EnvOptions;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A pool of random actions inside the action bounds, generated before timing.
std::vector<double> action_pool(const graybox::envs::EnvSpec& spec, int count, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> pool(static_cast<std::size_t>(count) * static_cast<std::size_t>(spec.act_dim));
  for (int i = 0; i < count; ++i) {
    for (int j = 0; j < spec.act_dim; ++j) {
      pool[static_cast<std::size_t>(i * spec.act_dim + j)] =
          rng.uniform(spec.act_low[static_cast<std::size_t>(j)], spec.act_high[static_cast<std::size_t>(j)]);
    }
  }
  return pool;
}

}  // namespace

int main(int argc, char** argv) {
  long n = 200000;
  if (argc > 1) n = std::strtol(argv[1], nullptr, 10);
  if (n <= 0) {
    std::fprintf(stderr, "usage: %s [steps > 0]\n", argv[0]);
    return 2;
  }
  constexpr int kPool = 4096;

  std::printf("%-22s %14s %14s %8s\n", "task", "env steps/s", "raw steps/s", "ratio");
  for (const std::string& id : graybox::envs::env_ids()) {
    auto env = graybox::envs::make_env(id);
    auto* menv = dynamic_cast<graybox::envs::MujocoEnv*>(env.get());
    const auto& spec = env->spec();
    const std::vector<double> pool = action_pool(spec, kPool, 7);
    std::vector<double> obs(static_cast<std::size_t>(spec.obs_dim));
    std::vector<long> reset_at;  // env-path step indices after which an episode ended

    env->reset(1, obs.data());
    auto t0 = Clock::now();
    for (long i = 0; i < n; ++i) {
      const double* a = pool.data() + static_cast<std::size_t>(i % kPool) * static_cast<std::size_t>(spec.act_dim);
      const auto r = env->step(a, obs.data());
      if (r.terminated || r.truncated) {
        reset_at.push_back(i);
        env->reset(obs.data());
      }
    }
    const double env_s = seconds_since(t0);

    const mjModel* m = menv->model();
    mjData* d = mj_makeData(m);
    mj_resetData(m, d);
    mj_forward(m, d);
    std::size_t next_reset = 0;
    t0 = Clock::now();
    for (long i = 0; i < n; ++i) {
      const double* a = pool.data() + static_cast<std::size_t>(i % kPool) * static_cast<std::size_t>(spec.act_dim);
      for (int j = 0; j < m->nu; ++j) d->ctrl[j] = a[j];
      for (int k = 0; k < spec.frame_skip; ++k) mj_step(m, d);
      mj_rnePostConstraint(m, d);
      if (next_reset < reset_at.size() && reset_at[next_reset] == i) {
        ++next_reset;
        mj_resetData(m, d);
        mj_forward(m, d);
      }
    }
    const double raw_s = seconds_since(t0);
    mj_deleteData(d);

    const double env_rate = static_cast<double>(n) / env_s;
    const double raw_rate = static_cast<double>(n) / raw_s;
    std::printf("%-22s %14.0f %14.0f %8.3f   (%zu episodes)\n", id.c_str(), env_rate, raw_rate,
                env_rate / raw_rate, reset_at.size());
  }

  // VecEnv: HalfCheetah-v5, 16 envs, 1 vs 2 threads, n env steps in total.
  const int num_envs = 16;
  const long vec_steps = n / num_envs;
  std::printf("\nVecEnv HalfCheetah-v5, %d envs, %ld vector steps (%ld env steps)\n", num_envs,
              vec_steps, vec_steps * num_envs);
  std::printf("%-10s %14s %10s\n", "threads", "env steps/s", "speedup");
  double base_rate = 0.0;
  for (int threads : {1, 2}) {
    graybox::envs::VecEnv vec("HalfCheetah-v5", EnvOptions{}, num_envs, 3, threads);
    const auto& spec = vec.spec();
    const std::vector<double> pool = action_pool(spec, kPool, 11);
    std::vector<double> actions(static_cast<std::size_t>(num_envs * spec.act_dim));
    vec.reset();
    const auto t0 = Clock::now();
    for (long i = 0; i < vec_steps; ++i) {
      for (std::size_t j = 0; j < actions.size(); ++j) {
        actions[j] = pool[(static_cast<std::size_t>(i) * actions.size() + j) % pool.size()];
      }
      vec.step(actions);
    }
    const double rate = static_cast<double>(vec_steps * num_envs) / seconds_since(t0);
    if (threads == 1) base_rate = rate;
    std::printf("%-10d %14.0f %10.2f\n", threads, rate, rate / base_rate);
  }
  return 0;
}
