// The keys of a meta-training config (`graybox control train`): seed, total_steps,
// control.instances / num_envs / num_threads, the dac.* keys of the control env and PPO's
// agent.* keys, and the MetaTrainConfig they build.
#pragma once

#include "core/config.hpp"
#include "dac/instance.hpp"
#include "dac/meta_trainer.hpp"

namespace graybox::dac {

void add_meta_train_schema(core::ConfigSchema& schema);
// Loads the instance set (its errors name its file, line and field) and reads every key.
MetaTrainConfig meta_train_config(const core::Config& config);
InstanceSet configured_instance_set(const core::Config& config);

}  // namespace graybox::dac
