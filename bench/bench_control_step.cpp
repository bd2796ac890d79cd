// The control env's cost on instances of configs/control/instances.yaml: one control step's
// overhead (the action, setting the optimizer, the features: everything in ControlEnv::step but
// the minibatches and validation) as a share of the K minibatches it controls, and the env's
// minibatch throughput beside a plain SupervisedTask::train over the same run (same data,
// seed and values; the env's actions are 0, so the lr stays at the instance's). Validation is
// off inside the timed episodes (val_interval 0: only at reset and the end, outside the
// comparison) and its cost per pass is printed apart. Each measurement is the fastest of
// --repeats runs (the machine is shared); the throughput is printed in wall-clock seconds and
// in the thread's CPU seconds (LibTorch runs on the calling thread, torch_threads 1), which
// other processes on a busy machine disturb far less.
// The overhead includes the policy's forward pass on each observation (--policy PATH: a
// policy.pt; default: the shipped network shape, 10 -> 64 -> 64 -> 2 tanh, with random weights,
// which costs the same); its actions are not applied, so the lr stays equal to the plain run's.
// Usage: bench_control_step [--set FILE] [--k K] [--repeats N] [--policy PATH] [NAME...]   (from the repo root)
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/timing.hpp"
#include "agents/ppo_policy.hpp"
#include "core/rng.hpp"
#include "dac/control_env.hpp"

namespace {

using namespace graybox;

struct Result {
  double env_s = 1e300, plain_s = 1e300, overhead_s = 1e300, train_s = 1e300, validation_s = 1e300;
  double env_cpu = 1e300, plain_cpu = 1e300;
};

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// The shipped controller's network shape with random weights.
agents::PpoPolicy random_policy() {
  core::Rng rng(9);
  std::vector<agents::MlpInference::Layer> layers;
  const int widths[] = {dac::ControlEnv::kObsDim, 64, 64, 2};
  for (int l = 0; l < 3; ++l) {
    agents::MlpInference::Layer layer;
    layer.in = widths[l];
    layer.out = widths[l + 1];
    for (int i = 0; i < layer.in * layer.out; ++i) layer.weight.push_back(static_cast<float>(0.1 * rng.normal()));
    layer.bias.assign(static_cast<std::size_t>(layer.out), 0.0f);
    layers.push_back(std::move(layer));
  }
  agents::MlpInference actor;
  actor.set_layers(std::move(layers));
  return agents::PpoPolicy(std::move(actor), agents::ObsNormalizer(dac::ControlEnv::kObsDim, 10.0, true), {-1.0, -1.0},
                           {1.0, 1.0}, "{}");
}

}  // namespace

int main(int argc, char** argv) {
  std::string set_path = "configs/control/instances.yaml";
  std::int64_t k = 50;
  int repeats = 3;
  std::string policy_path;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--set") == 0 && i + 1 < argc) set_path = argv[++i];
    else if (std::strcmp(argv[i], "--k") == 0 && i + 1 < argc) k = std::atoll(argv[++i]);
    else if (std::strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) repeats = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--policy") == 0 && i + 1 < argc) policy_path = argv[++i];
    else names.emplace_back(argv[i]);
  }
  if (names.empty()) names = {"ts_mlp_sgd", "digits_mlp_adamw", "fmnist_mlp_sgd", "fmnist_cnn_adamw"};
  const dac::InstanceSet set = dac::load_instance_set(set_path);
  std::vector<dac::Instance> all = set.train;
  all.insert(all.end(), set.test.begin(), set.test.end());
  optim::set_torch_threads(1);
  agents::PpoPolicy policy = policy_path.empty() ? random_policy() : agents::PpoPolicy::load(policy_path);
  std::vector<double> unused(static_cast<std::size_t>(policy.act_dim()));

  std::printf("%-20s %6s %4s %9s %10s %9s %9s %9s %11s\n", "instance", "budget", "K", "env mb/s", "plain mb/s",
              "env/plain", "cpu ratio", "overhead", "val pass ms");
  for (const std::string& name : names) {
    const auto it = std::find_if(all.begin(), all.end(), [&](const dac::Instance& in) { return in.name == name; });
    if (it == all.end()) {
      std::fprintf(stderr, "%s: no instance named %s\n", set_path.c_str(), name.c_str());
      return 2;
    }
    dac::ControlOptions options;
    options.control_interval = k;
    options.val_interval = 0;
    dac::ControlEnv env({*it}, options);
    std::vector<double> obs(dac::ControlEnv::kObsDim);
    const std::vector<double> keep(static_cast<std::size_t>(env.spec().act_dim), 0.0);
    const std::uint64_t seed = 5;
    Result best;
    const optim::Split data = tasks::load_supervised_data(it->data, it->seed);  // the split the env uses
    bool same_length = true;
    const auto run_plain = [&](std::int64_t steps_per_epoch) {
      tasks::SupervisedTask plain(dac::task_config(*it, seed, steps_per_epoch), data);
      core::NullSink sink;
      const core::Clock::time_point start = core::Clock::now();
      const double cpu = thread_cpu_seconds();
      plain.train(it->budget, sink);
      best.plain_cpu = std::min(best.plain_cpu, thread_cpu_seconds() - cpu);
      best.plain_s = std::min(best.plain_s, core::seconds_since(start));
      same_length = same_length && plain.steps_done() == it->budget;
    };
    for (int r = 0; r < repeats; ++r) {
      env.reset_instance(0, seed, obs.data());
      if (r % 2 == 1) run_plain(env.task().steps_per_epoch());  // alternate the order
      double env_s = 0, env_cpu = 0, policy_s = 0;
      while (!env.done()) {
        const core::Clock::time_point start = core::Clock::now();
        const double cpu = thread_cpu_seconds();
        const dac::ControlTiming before = env.timing();
        policy.act(obs.data(), unused.data());
        policy_s += core::seconds_since(start);
        env.step(keep.data(), obs.data());
        env_cpu += thread_cpu_seconds() - cpu;
        env_s += core::seconds_since(start) - (env.timing().validation_s - before.validation_s);
      }
      // The final validation pass (a plain run does not make it), timed again on its own in CPU seconds.
      const double pass_cpu = thread_cpu_seconds();
      env.task().evaluate_split("val");
      env_cpu -= thread_cpu_seconds() - pass_cpu;
      const dac::ControlTiming t = env.timing();
      best.env_cpu = std::min(best.env_cpu, env_cpu);
      best.env_s = std::min(best.env_s, env_s);
      best.overhead_s = std::min(best.overhead_s, t.overhead_s + policy_s);
      best.train_s = std::min(best.train_s, t.train_s);
      best.validation_s = std::min(best.validation_s, t.validation_s);
      if (r % 2 == 0) run_plain(env.task().steps_per_epoch());
    }
    if (!same_length || env.minibatches_done() != it->budget) {
      std::fprintf(stderr, "%s: the env and the plain run did not both train the budget\n", name.c_str());
      return 1;
    }
    const double budget = static_cast<double>(it->budget);
    std::printf("%-20s %6lld %4lld %9.1f %10.1f %9.3f %9.3f %8.3f%% %11.2f\n", name.c_str(),
                static_cast<long long>(it->budget), static_cast<long long>(k), budget / best.env_s,
                budget / best.plain_s, best.plain_s / best.env_s, best.plain_cpu / best.env_cpu,
                100.0 * best.overhead_s / best.train_s, 1e3 * best.validation_s);
  }
  return 0;
}
