// PPO training throughput (env steps per second, rollout and update included) on a MuJoCo
// task, for a few VecEnv shapes. Usage:
//   bench_ppo_throughput [ENV_ID] [STEPS]       (defaults: HalfCheetah-v5 40960)
// The learning half alone, beside the same update in Python PyTorch: bench/ppo_update.py.
#include <chrono>
#include <cstdio>
#include <string>

#include "core/config.hpp"
#include "optim/trainer.hpp"
#include "tasks/rl_task.hpp"

namespace {

double measure(const std::string& env_id, long long steps, int num_envs, int threads, int num_steps,
               int update_threads) {
  using namespace graybox;
  core::ConfigSchema schema;
  tasks::add_rl_schema(schema);
  const core::Config config = core::Config::parse("", "bench", schema,
      {"env.id=" + env_id, "total_steps=" + std::to_string(steps),
       "env.num_envs=" + std::to_string(num_envs), "env.num_threads=" + std::to_string(threads),
       "agent.num_steps=" + std::to_string(num_steps),
       "agent.update_threads=" + std::to_string(update_threads)});
  tasks::RlTask task(tasks::rl_task_config(config));
  graybox::core::NullSink sink;
  const auto start = std::chrono::steady_clock::now();
  while (task.iterate(sink)) {
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("    (rollout %.2f s, update %.2f s, %lld updates)\n", task.rollout_seconds(),
              task.update_seconds(), static_cast<long long>(task.iterations_done()));
  return static_cast<double>(task.steps_done()) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  graybox::optim::set_torch_threads(1);
  const std::string env_id = argc > 1 ? argv[1] : "HalfCheetah-v5";
  const long long steps = argc > 2 ? std::atoll(argv[2]) : 40960;
  std::printf("PPO training throughput on %s, %lld env steps per row (CleanRL defaults otherwise)\n",
              env_id.c_str(), steps);
  std::printf("%-42s %12s\n", "setting", "steps/s");
  // Every row does the same learning work per env step as CleanRL: batch 2048, 32
  // minibatches of 64, 10 epochs.
  struct Row { const char* name; int envs, threads, num_steps, update_threads; };
  const Row rows[] = {
      {"1 env x 2048 steps, 1 thread (CleanRL)", 1, 1, 2048, 1},
      {"1 env x 2048 steps, 2 update threads", 1, 1, 2048, 2},
      {"8 envs x 256 steps, 2+2 threads", 8, 2, 256, 2},
      {"16 envs x 128 steps, 2+2 threads", 16, 2, 128, 2},
  };
  for (const auto& row : rows) {
    const double sps = measure(env_id, steps, row.envs, row.threads, row.num_steps, row.update_threads);
    std::printf("%-42s %12.0f\n", row.name, sps);
  }
  return 0;
}
