#include "dac/meta_train_config.hpp"

#include <filesystem>

#include "agents/agent_config.hpp"
#include "agents/ppo_hyperparameters.hpp"
#include "dac/control_config.hpp"

namespace graybox::dac {

void add_meta_train_schema(core::ConfigSchema& s) {
  s.add_int("seed", 1, "the experiment seed; the PPO agent, every env's reset stream and every run derive from it", 0,
            9.0e15);
  s.add_int("total_steps", 20000, "control steps to meta-train for (all envs together; one step is K minibatches)", 1,
            9.0e15);
  s.add_string("control.instances", "instances.yaml",
               "the instance-set file (train and test lists); meta-training samples the train list");
  s.add_int("control.num_envs", 4, "control envs (supervised training runs) stepped side by side", 1, 1024);
  s.add_int("control.num_threads", 1, "TBB threads stepping them (0: all cores); results do not depend on it", 0, 1024);
  s.add_int("torch_threads", 1, "LibTorch intra-op threads of the PPO update (each supervised run trains on 1)", 1, 256);
  add_control_schema(s);
  s.add_string("agent.algo", "ppo", "the meta-controller's learner (PPO, agents/ppo_agent.hpp)", {"ppo"});
  s.begin_variant("agent.algo", {"ppo"});
  agents::add_ppo_schema(s);
  s.end_variant();
  s.mark_paths({"control.instances"});
}

InstanceSet configured_instance_set(const core::Config& config) {
  const std::string& path = config.get_string("control.instances");
  if (!std::filesystem::is_regular_file(path)) config.fail("control.instances", path + ": no such instance-set file");
  return load_instance_set(path);  // its errors name its own file, line and field
}

MetaTrainConfig meta_train_config(const core::Config& config) {
  MetaTrainConfig c;
  c.seed = static_cast<std::uint64_t>(config.get_int("seed"));
  c.total_steps = config.get_int("total_steps");
  c.num_envs = static_cast<int>(config.get_int("control.num_envs"));
  c.num_threads = static_cast<int>(config.get_int("control.num_threads"));
  c.ppo = agents::ppo_agent_config(config);
  c.hyperparameters = agents::agent_hyperparameters(config);
  c.control = control_options(config);
  c.instances = configured_instance_set(config).train;
  return c;
}

}  // namespace graybox::dac
