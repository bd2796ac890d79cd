// SAC and TD3 training throughput on a MuJoCo task in steady state (every env step followed by
// one update, i.e. after agent.learning_starts), with 1 and 2 LibTorch threads, beside the
// machine's measured matrix-multiply throughput at the update's shapes. Usage:
//   bench_off_policy [ENV_ID] [STEPS] [ALGO] [THREADS]
// (defaults: HalfCheetah-v5, 2000 timed steps per row, both algorithms, 1 and 2 threads).
// The share column is steps/s x the update's cost (Linear layers only, batch 256, 256-256 MLPs:
// SAC 0.69 GFLOP per step, TD3 0.43) over the measured GEMM ceiling.
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "agents/mlp_pass.hpp"
#include "core/config.hpp"
#include "core/timing.hpp"
#include "optim/trainer.hpp"
#include "tasks/rl_task.hpp"

namespace {

using graybox::core::Clock;
using graybox::core::seconds_since;

// GFLOP/s of the GEMMs of one forward and backward pass through an MLP with these layer widths
// at this batch: y = x W^T, dW = g^T x, dx = g W per layer, each on preallocated tensors.
double gemm_gflops(const std::vector<int>& widths, int batch) {
  struct Layer {
    torch::Tensor x, w, y, g, dw, dx;
  };
  std::vector<Layer> layers;
  double flop = 0.0;
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
    const int in = widths[i], out = widths[i + 1];
    Layer l;
    l.x = torch::randn({batch, in});
    l.w = torch::randn({out, in});
    l.y = torch::empty({batch, out});
    l.g = torch::randn({batch, out});
    l.dw = torch::empty({out, in});
    l.dx = torch::empty({batch, in});
    layers.push_back(l);
    flop += 3.0 * 2.0 * batch * in * out;
  }
  // The products MlpPass runs, through the same direct BLAS call.
  using graybox::agents::gemm;
  const auto pass = [&] {
    for (auto& l : layers) {
      const int in = static_cast<int>(l.x.size(1)), out = static_cast<int>(l.w.size(0));
      gemm(false, true, batch, out, in, l.x.data_ptr<float>(), in, l.w.data_ptr<float>(), in, l.y.data_ptr<float>());
      gemm(true, false, out, in, batch, l.g.data_ptr<float>(), out, l.x.data_ptr<float>(), in, l.dw.data_ptr<float>());
      gemm(false, false, batch, in, out, l.g.data_ptr<float>(), out, l.w.data_ptr<float>(), in, l.dx.data_ptr<float>());
    }
  };
  for (int i = 0; i < 50; ++i) pass();
  int reps = 0;
  const auto start = Clock::now();
  while (seconds_since(start) < 1.0 || reps < 100) {
    pass();
    ++reps;
  }
  return flop * reps / seconds_since(start) / 1e9;
}

// One row: training steps per second after learning_starts and the GEMM ceiling, measured in
// `rounds` alternating rounds (a ceiling measurement, then steps/rounds timed env steps), each
// the fastest of its rounds. This VM's speed drifts by tens of percent within a minute; rounds
// that alternate give both sides the same machine, and the fastest of each is its best case.
struct Row {
  double sps = 0, critic = 0, actor = 0;
  // The harmonic mean: the critics' and the actor's shapes weigh about half of a step each.
  double ceiling() const { return 2.0 / (1.0 / critic + 1.0 / actor); }
};

Row measure(const std::string& env_id, const std::string& algo, long long steps, int threads, int rounds) {
  using namespace graybox;
  // HalfCheetah: obs 17, act 6. Critic input obs+act, actor input obs (mean and log-std); batch 256.
  const int obs = 17, act = 6, batch = 256;
  const long long learning_starts = 1000;
  core::ConfigSchema schema;
  tasks::add_rl_schema(schema);
  const core::Config config = core::Config::parse(
      "", "bench", schema,
      {"agent.algo=" + algo, "env.id=" + env_id, "agent.learning_starts=" + std::to_string(learning_starts),
       "total_steps=" + std::to_string(learning_starts + 200 + steps), "torch_threads=" + std::to_string(threads)});
  tasks::RlTask task(tasks::rl_task_config(config));
  core::NullSink sink;
  // Random actions until learning starts, then 200 steps of updates before the clock starts.
  while (task.steps_done() < learning_starts + 200 && task.iterate(sink)) {
  }
  Row row;
  for (int round = 0; round < rounds; ++round) {
    optim::set_torch_threads(threads);
    row.critic = std::max(row.critic, gemm_gflops({obs + act, 256, 256, 1}, batch));
    row.actor = std::max(row.actor, gemm_gflops({obs, 256, 256, 2 * act}, batch));
    const std::int64_t first = task.steps_done(), last = first + steps / rounds;
    const auto start = Clock::now();
    while (task.steps_done() < last && task.iterate(sink)) {
    }
    row.sps = std::max(row.sps, static_cast<double>(task.steps_done() - first) / seconds_since(start));
  }
  return row;
}

// Seconds of one in-memory PBT exploit copy (RlTask::copy_state_from: networks, optimizer
// moments, α, the replay buffer at CleanRL's 1M capacity, envs, counters) after learning starts.
double copy_seconds(const std::string& env_id, const std::string& algo) {
  using namespace graybox;
  core::ConfigSchema schema;
  tasks::add_rl_schema(schema);
  const auto make = [&](int seed) {
    return std::make_unique<tasks::RlTask>(tasks::rl_task_config(core::Config::parse(
        "", "bench", schema,
        {"agent.algo=" + algo, "env.id=" + env_id, "agent.learning_starts=1000", "total_steps=1400",
         "seed=" + std::to_string(seed)})));
  };
  auto donor = make(1), loser = make(2);
  core::NullSink sink;
  while (donor->iterate(sink)) {
  }
  const int reps = 5;
  const auto start = Clock::now();
  for (int k = 0; k < reps; ++k) loser->copy_state_from(*donor);
  return seconds_since(start) / reps;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string env_id = argc > 1 ? argv[1] : "HalfCheetah-v5";
  const long long steps = argc > 2 ? std::atoll(argv[2]) : 2000;
  const std::vector<std::string> algos = argc > 3 ? std::vector<std::string>{argv[3]} : std::vector<std::string>{"sac", "td3"};
  const std::vector<int> thread_counts = argc > 4 ? std::vector<int>{std::atoi(argv[4])} : std::vector<int>{1, 2};
  std::printf("Off-policy training throughput on %s, CleanRL's defaults (batch 256, 256-256 MLPs),\n"
              "%lld timed env steps per row after learning starts in 3 rounds alternating with the GEMM ceiling,\n"
              "each the fastest of its rounds\n\n", env_id.c_str(), steps);
  for (const std::string& algo : algos) {
    std::printf("%s: one PBT exploit copy (networks, moments, the 1M-capacity replay buffer, envs) %.1f ms\n",
                algo.c_str(), 1000.0 * copy_seconds(env_id, algo));
    std::fflush(stdout);
  }
  const int rounds = 3;
  std::printf("\n%-8s %8s %12s %16s %14s %10s\n", "algo", "threads", "steps/s", "update GFLOP/s", "GEMM ceiling", "share");
  for (const int threads : thread_counts) {
    for (const std::string& algo : algos) {
      const double gflop = algo == "sac" ? 0.69 : 0.43;
      const Row row = measure(env_id, algo, steps, threads, rounds);
      std::printf("%-8s %8d %12.1f %16.1f %14.1f %9.1f%%   (GEMM at the critic's shapes %.1f, the actor's %.1f)\n",
                  algo.c_str(), threads, row.sps, row.sps * gflop, row.ceiling(), 100.0 * row.sps * gflop / row.ceiling(),
                  row.critic, row.actor);
      std::fflush(stdout);
    }
  }
  std::printf("\nCleanRL, published (1 GPU, 1M steps on HalfCheetah-v4): SAC about 95 steps/s, TD3 about 191.\n");
  return 0;
}
