// The registered tasks (Gymnasium v5 semantics). Each task has a factory and a default spec
// (the spec with default parameters and the shipped model), used by the registry.
//
// Reward terms: every task reports named terms that sum to the reward, costs as negative
// contributions (e.g. {"ctrl_cost", -0.02}).
//   InvertedPendulum-v5: survive
//   Hopper-v5:           forward, healthy, ctrl_cost
//   HalfCheetah-v5:      forward, ctrl_cost
#pragma once

#include <memory>

#include "envs/env.hpp"

namespace graybox::envs {

std::unique_ptr<Env> make_inverted_pendulum(const EnvOptions& options);
EnvSpec inverted_pendulum_spec();

std::unique_ptr<Env> make_hopper(const EnvOptions& options);
EnvSpec hopper_spec();

std::unique_ptr<Env> make_half_cheetah(const EnvOptions& options);
EnvSpec half_cheetah_spec();

}  // namespace graybox::envs
