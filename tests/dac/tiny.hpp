// A tiny teacher-student instance for the control tests: 600 examples, 8 inputs, 3 classes,
// a 16-unit MLP, batches of 32, a budget of 60 minibatches; and a meta-training over it.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "agents/agent_config.hpp"
#include "agents/ppo_hyperparameters.hpp"
#include "core/config.hpp"
#include "dac/instance.hpp"
#include "dac/meta_trainer.hpp"

namespace graybox::dac::testing {

// A fresh, empty folder of this test process under the system's temporary directory.
inline std::string temp_dir(const std::string& name) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("graybox_dac_" + name + "_" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline Instance tiny_instance(optim::OptimizerKind kind = optim::OptimizerKind::kSgd) {
  Instance in;
  in.name = "tiny";
  in.data.name = "teacher_student";
  in.data.teacher.dim = 8;
  in.data.teacher.hidden = 16;
  in.data.teacher.classes = 3;
  in.data.teacher.examples = 600;
  in.model.type = "mlp";
  in.model.widths = {16};
  in.optimizer = kind;
  in.lr = kind == optim::OptimizerKind::kSgd ? 0.05 : 1e-3;
  in.weight_decay = 1e-3;
  in.momentum = 0.9;
  in.batch_size = 32;
  in.budget = 60;
  in.seed = 7;
  return in;
}

// Meta-training of seconds: 2 envs over two tiny instances (SGD with a 30-minibatch budget, so
// episodes end inside rollouts, and AdamW), rollouts of 8 steps, 48 control steps in all.
inline MetaTrainConfig tiny_meta_config(int threads = 1) {
  core::ConfigSchema schema;
  schema.add_string("agent.algo", "ppo", "", {"ppo"});
  schema.begin_variant("agent.algo", {"ppo"});
  agents::add_ppo_schema(schema);
  schema.end_variant();
  schema.add_int("total_steps", 96, "", 1, 1e9);
  const core::Config config = core::Config::parse(
      "agent: {num_steps: 8, num_minibatches: 2, update_epochs: 2, hidden_sizes: [8]}\n", "test", schema);
  MetaTrainConfig c;
  c.seed = 5;
  c.total_steps = 48;  // 3 rollouts of 2 envs x 8 steps
  c.num_envs = 2;
  c.num_threads = threads;
  c.ppo = agents::ppo_agent_config(config);
  c.hyperparameters = agents::agent_hyperparameters(config);
  c.control.control_interval = 10;
  c.control.val_interval = 2;
  Instance a = tiny_instance(optim::OptimizerKind::kSgd), b = tiny_instance(optim::OptimizerKind::kAdamW);
  a.budget = 30;  // 3 control steps: episodes end in the middle of rollouts
  b.name = "tiny_adamw";
  c.instances = {a, b};
  return c;
}

}  // namespace graybox::dac::testing
