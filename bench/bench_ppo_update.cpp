// One PPO update at CleanRL's shape (HalfCheetah's 17 observations and 6 actions, 64-64 tanh
// actor and critic, batch 2048, 32 minibatches of 64, 10 epochs), timed on its own: the learning
// half of PPO's cost, which bench/ppo_update.py measures beside the same update in Python
// PyTorch. Usage: bench_ppo_update [UPDATES] [UPDATE_THREADS]   (defaults: 10 1)
// Prints "graybox_update_seconds <mean seconds per update>" last, for the script to read.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "agents/ppo.hpp"
#include "core/config.hpp"
#include "core/timing.hpp"
#include "optim/trainer.hpp"
#include "tasks/rl_task.hpp"

int main(int argc, char** argv) {
  using namespace graybox;
  const int updates = argc > 1 ? std::atoi(argv[1]) : 10;
  const int update_threads = argc > 2 ? std::atoi(argv[2]) : 1;
  if (updates < 1 || update_threads < 1) {
    std::fprintf(stderr, "usage: bench_ppo_update [UPDATES >= 1] [UPDATE_THREADS >= 1]\n");
    return 2;
  }
  optim::set_torch_threads(1);
  core::ConfigSchema schema;
  tasks::add_rl_schema(schema);
  const core::Config config =
      core::Config::parse("", "bench", schema, {"agent.update_threads=" + std::to_string(update_threads)});
  const core::Hyperparameters hp = agents::agent_hyperparameters(config);
  const int obs_dim = 17, act_dim = 6, num_steps = 2048;
  agents::PpoLearner agent(obs_dim, act_dim, agents::ppo_network_config(config), 1);

  // A rollout's worth of data: normal observations, actions sampled by the policy, and normal
  // advantages and returns (the cost of an update does not depend on the values).
  core::Rng rng(7);
  agents::RolloutBuffer buffer;
  buffer.resize(num_steps, 1, obs_dim, act_dim);
  for (auto& x : buffer.obs) x = static_cast<float>(rng.normal());
  agent.act(buffer.obs.data(), num_steps, rng, buffer.actions.data(), buffer.logprobs.data(), buffer.values.data());
  for (std::size_t i = 0; i < buffer.size(); ++i) {
    buffer.advantages[i] = static_cast<float>(rng.normal());
    buffer.returns[i] = buffer.values[i] + buffer.advantages[i];
  }

  agent.update(buffer, hp, 3e-4, rng);  // warm-up
  const auto start = core::Clock::now();
  for (int k = 0; k < updates; ++k) agent.update(buffer, hp, 3e-4, rng);
  const double per_update = core::seconds_since(start) / updates;
  std::printf("graybox PPO update, %d update thread(s): %.1f ms per update (%d updates)\n", update_threads,
              per_update * 1e3, updates);
  std::printf("graybox_update_seconds %.6f\n", per_update);
  return 0;
}
