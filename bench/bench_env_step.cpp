// bench_env_step [seconds] [--v4]: env step throughput of every v5 task (with --v4 the v4 ids
// too) against raw MuJoCo, printed as markdown tables.
// For each task: env steps with random actions (reset at episode ends) and raw steps of the
// same model (ctrl = the same random action, mj_step x frame_skip, mj_rnePostConstraint, reset
// at the same step counts), timed in 10 alternating chunks so that load from other processes
// affects both alike. The step count per task is sized from a short pilot so that each path
// runs about `seconds` (default 1.5). Then VecEnv (16 and 64 envs) on HalfCheetah-v5 and Ant-v5 with 1
// and 2 threads, also in alternating chunks.
#include <mujoco/mujoco.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/rng.hpp"
#include "core/timing.hpp"
#include "envs/env.hpp"
#include "envs/mujoco_env.hpp"
#include "envs/vec_env.hpp"

namespace {

using graybox::core::Rng;
using graybox::envs::EnvOptions;
using graybox::core::Clock;
using graybox::core::seconds_since;

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

constexpr int kPool = 4096;
constexpr long kChunks = 10;

struct TaskResult {
  double env_rate = 0.0, raw_rate = 0.0;
  std::size_t episodes = 0;
};

TaskResult bench_task(const std::string& id, double seconds) {
  auto env = graybox::envs::make_env(id);
  auto* menv = dynamic_cast<graybox::envs::MujocoEnv*>(env.get());
  const auto& spec = env->spec();
  const std::vector<double> pool = action_pool(spec, kPool, 7);
  std::vector<double> obs(static_cast<std::size_t>(spec.obs_dim));
  const mjModel* m = menv->model();
  mjData* d = mj_makeData(m);

  // Pilot: size the run from the raw rate.
  mj_resetData(m, d);
  mj_forward(m, d);
  auto t0 = Clock::now();
  long pilot = 0;
  while (seconds_since(t0) < 0.1) {
    for (int k = 0; k < spec.frame_skip; ++k) mj_step(m, d);
    mj_rnePostConstraint(m, d);
    if (++pilot % spec.max_episode_steps == 0) {
      mj_resetData(m, d);
      mj_forward(m, d);
    }
  }
  const long n = std::max(1000L, static_cast<long>(static_cast<double>(pilot) / 0.1 * seconds));

  mj_resetData(m, d);
  mj_forward(m, d);
  env->reset(1, obs.data());
  std::vector<long> reset_at;  // env-path step indices after which an episode ended
  double env_s = 0.0, raw_s = 0.0;
  long env_i = 0, raw_i = 0;
  std::size_t next_reset = 0;
  const auto ad = static_cast<std::size_t>(spec.act_dim);
  for (long c = 1; c <= kChunks; ++c) {
    const long end = n * c / kChunks;
    t0 = Clock::now();
    for (; env_i < end; ++env_i) {
      const double* a = pool.data() + static_cast<std::size_t>(env_i % kPool) * ad;
      const auto r = env->step(a, obs.data());
      if (r.terminated || r.truncated) {
        reset_at.push_back(env_i);
        env->reset(obs.data());
      }
    }
    env_s += seconds_since(t0);

    t0 = Clock::now();
    for (; raw_i < end; ++raw_i) {
      const double* a = pool.data() + static_cast<std::size_t>(raw_i % kPool) * ad;
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
  TaskResult result;
  result.env_rate = static_cast<double>(n) / env_s;
  result.raw_rate = static_cast<double>(n) / raw_s;
  result.episodes = reset_at.size();
  return result;
}

// VecEnv with 1 and 2 threads, n_steps vector steps each, in alternating chunks.
void bench_vec(const std::string& id, int num_envs, double seconds) {
  graybox::envs::VecEnv vec1(id, EnvOptions{}, num_envs, 3, 1);
  graybox::envs::VecEnv vec2(id, EnvOptions{}, num_envs, 3, 2);
  graybox::envs::VecEnv* vecs[2] = {&vec1, &vec2};
  const auto& vspec = vec1.spec();
  const std::vector<double> vpool = action_pool(vspec, kPool, 11);
  std::vector<double> actions(static_cast<std::size_t>(num_envs * vspec.act_dim));
  auto fill = [&](long step) {
    for (std::size_t j = 0; j < actions.size(); ++j) {
      actions[j] = vpool[(static_cast<std::size_t>(step) * actions.size() + j) % vpool.size()];
    }
  };
  vec1.reset();
  vec2.reset();
  // Pilot on one thread.
  auto t0 = Clock::now();
  long pilot = 0;
  while (seconds_since(t0) < 0.1) {
    fill(pilot);
    vec1.step(actions);
    ++pilot;
  }
  const long vec_steps = std::max(100L, static_cast<long>(static_cast<double>(pilot) / 0.1 * seconds));
  double vec_s[2] = {0.0, 0.0};
  long done[2] = {0, 0};
  for (long c = 1; c <= kChunks; ++c) {
    const long end = vec_steps * c / kChunks;
    for (int v = 0; v < 2; ++v) {
      t0 = Clock::now();
      for (; done[v] < end; ++done[v]) {
        fill(done[v]);
        vecs[v]->step(actions);
      }
      vec_s[v] += seconds_since(t0);
    }
  }
  const double total = static_cast<double>(vec_steps * num_envs);
  const double rate1 = total / vec_s[0];
  const double rate2 = total / vec_s[1];
  std::printf("| %s | %d | %.0f | %.0f | %.2f |", id.c_str(), num_envs, rate1, rate2, rate2 / rate1);
}

// The machine's own 2-thread ceiling for the same physics: num_envs raw mjData stepped by one
// thread, then split over two std::threads (no graybox code in the loop), alternating chunks.
// On a VM whose single busy core runs at a boosted clock this is below 2x, and it bounds what
// any VecEnv can reach.
double raw_two_thread_speedup(const std::string& id, int num_envs, double seconds) {
  auto env = graybox::envs::make_env(id);
  auto* menv = dynamic_cast<graybox::envs::MujocoEnv*>(env.get());
  const mjModel* m = menv->model();
  const auto& spec = env->spec();
  std::vector<mjData*> datas;
  for (int i = 0; i < num_envs; ++i) {
    datas.push_back(mj_makeData(m));
    mj_forward(m, datas.back());
  }
  const std::vector<double> pool = action_pool(spec, kPool, 5);
  const auto step_range = [&](int begin, int end, long steps, long offset) {
    for (long t = 0; t < steps; ++t) {
      for (int i = begin; i < end; ++i) {
        mjData* d = datas[static_cast<std::size_t>(i)];
        const double* a = pool.data() + static_cast<std::size_t>((offset + t * num_envs + i) % kPool) * spec.act_dim;
        for (int j = 0; j < m->nu; ++j) d->ctrl[j] = a[j];
        for (int k = 0; k < spec.frame_skip; ++k) mj_step(m, d);
        mj_rnePostConstraint(m, d);
        if (d->time > 50.0) {  // keep the state in a typical range
          mj_resetData(m, d);
          mj_forward(m, d);
        }
      }
    }
  };
  auto t0 = Clock::now();
  long pilot = 0;
  while (seconds_since(t0) < 0.1) step_range(0, num_envs, 1, pilot++);
  const long per_chunk = std::max(10L, static_cast<long>(static_cast<double>(pilot) / 0.1 * seconds / kChunks));
  double one = 0.0, two = 0.0;
  for (long c = 0; c < kChunks; ++c) {
    t0 = Clock::now();
    step_range(0, num_envs, per_chunk, c);
    one += seconds_since(t0);
    t0 = Clock::now();
    std::thread helper([&] { step_range(num_envs / 2, num_envs, per_chunk, c); });
    step_range(0, num_envs / 2, per_chunk, c);
    helper.join();
    two += seconds_since(t0);
  }
  for (mjData* d : datas) mj_deleteData(d);
  return one / two;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1.5;
  bool with_v4 = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--v4") == 0) {
      with_v4 = true;
    } else {
      seconds = std::strtod(argv[i], nullptr);
      if (!(seconds > 0.0)) {
        std::fprintf(stderr, "usage: %s [seconds per path > 0] [--v4]\n", argv[0]);
        return 2;
      }
    }
  }

  std::printf("| task | env steps/s | raw steps/s | env / raw | episodes |\n");
  std::printf("|---|---:|---:|---:|---:|\n");
  for (const std::string& id : graybox::envs::env_ids()) {
    if (!with_v4 && id.size() > 3 && id.compare(id.size() - 3, 3, "-v4") == 0) continue;
    const TaskResult r = bench_task(id, seconds);
    std::printf("| %s | %.0f | %.0f | %.3f | %zu |\n", id.c_str(), r.env_rate, r.raw_rate,
                r.env_rate / r.raw_rate, r.episodes);
    std::fflush(stdout);
  }

  std::printf("\n| VecEnv task | envs | 1 thread, env steps/s | 2 threads, env steps/s | speedup | raw physics on 2 threads |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (const char* id : {"HalfCheetah-v5", "Ant-v5"}) {
    for (const int envs : {16, 64}) {
      bench_vec(id, envs, seconds);
      std::printf(" %.2f |\n", raw_two_thread_speedup(id, envs, seconds));
    }
    std::fflush(stdout);
  }
  return 0;
}
