// bench_env_step [N]: env step throughput of every registered task against raw MuJoCo.
// For each task: N env steps with random actions (reset at episode ends) and N raw steps of
// the same model (ctrl = random action, mj_step x frame_skip, mj_rnePostConstraint, reset at
// the same step counts), timed in alternating chunks. Then VecEnv on HalfCheetah-v5 (16 envs) with 1 and 2
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

    const mjModel* m = menv->model();
    mjData* d = mj_makeData(m);
    mj_resetData(m, d);
    mj_forward(m, d);
    env->reset(1, obs.data());

    // The two paths run in alternating chunks, so that load from other processes affects both
    // alike. The raw path resets at the same step counts as the env path did.
    const long chunks = 10;
    double env_s = 0.0, raw_s = 0.0;
    long env_i = 0, raw_i = 0;
    std::size_t next_reset = 0;
    for (long c = 1; c <= chunks; ++c) {
      const long end = n * c / chunks;
      auto t0 = Clock::now();
      for (; env_i < end; ++env_i) {
        const double* a = pool.data() + static_cast<std::size_t>(env_i % kPool) * static_cast<std::size_t>(spec.act_dim);
        const auto r = env->step(a, obs.data());
        if (r.terminated || r.truncated) {
          reset_at.push_back(env_i);
          env->reset(obs.data());
        }
      }
      env_s += seconds_since(t0);

      t0 = Clock::now();
      for (; raw_i < end; ++raw_i) {
        const double* a = pool.data() + static_cast<std::size_t>(raw_i % kPool) * static_cast<std::size_t>(spec.act_dim);
        for (int j = 0; j < m->nu; ++j) d->ctrl[j] = a[j];
        for (int k = 0; k < spec.frame_skip; ++k) mj_step(m, d);
        mj_rnePostConstraint(m, d);
        if (next_reset < reset_at.size() && reset_at[next_reset] == raw_i) {
          ++next_reset;
          mj_resetData(m, d);
          mj_forward(m, d);
        }
      }
      raw_s += seconds_since(t0);
    }
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
  // Both VecEnvs run in alternating chunks, so that outside load affects them alike.
  graybox::envs::VecEnv vec1("HalfCheetah-v5", EnvOptions{}, num_envs, 3, 1);
  graybox::envs::VecEnv vec2("HalfCheetah-v5", EnvOptions{}, num_envs, 3, 2);
  graybox::envs::VecEnv* vecs[2] = {&vec1, &vec2};
  const auto& vspec = vec1.spec();
  const std::vector<double> vpool = action_pool(vspec, kPool, 11);
  std::vector<double> actions(static_cast<std::size_t>(num_envs * vspec.act_dim));
  double vec_s[2] = {0.0, 0.0};
  long done[2] = {0, 0};
  vec1.reset();
  vec2.reset();
  const long chunks = 10;
  for (long c = 1; c <= chunks; ++c) {
    const long end = vec_steps * c / chunks;
    for (int v = 0; v < 2; ++v) {
      const auto t0 = Clock::now();
      for (; done[v] < end; ++done[v]) {
        for (std::size_t j = 0; j < actions.size(); ++j) {
          actions[j] = vpool[(static_cast<std::size_t>(done[v]) * actions.size() + j) % vpool.size()];
        }
        vecs[v]->step(actions);
      }
      vec_s[v] += seconds_since(t0);
    }
  }
  const double rate1 = static_cast<double>(vec_steps * num_envs) / vec_s[0];
  const double rate2 = static_cast<double>(vec_steps * num_envs) / vec_s[1];
  std::printf("%-10d %14.0f %10.2f\n", 1, rate1, 1.0);
  std::printf("%-10d %14.0f %10.2f\n", 2, rate2, rate2 / rate1);
  return 0;
}
