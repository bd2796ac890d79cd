// The registered tasks (Gymnasium v5 semantics, and v4 where it differs). Each task has one
// factory taking the version; the registry (registry.cpp) lists the ids.
//
// Reward terms: every task reports named terms that sum to the reward, costs as negative
// contributions (e.g. {"ctrl_cost", -0.02}).
//   InvertedPendulum:        survive
//   InvertedDoublePendulum:  alive, distance_cost, velocity_cost
//   Reacher:                 distance_cost, ctrl_cost
//   Pusher:                  near_cost, distance_cost, ctrl_cost
//   Swimmer:                 forward, ctrl_cost
//   Hopper, Walker2d:        forward, healthy, ctrl_cost
//   HalfCheetah:             forward, ctrl_cost
//   Ant:                     forward, healthy, ctrl_cost, contact_cost
//   Humanoid:                forward, healthy, ctrl_cost, contact_cost
//   HumanoidStandup:         uph, alive, ctrl_cost, impact_cost
#pragma once

#include <memory>

#include "envs/env.hpp"
#include "envs/task_util.hpp"

namespace graybox::envs {

std::unique_ptr<Env> make_inverted_pendulum(const EnvOptions& options, Version version);
std::unique_ptr<Env> make_inverted_double_pendulum(const EnvOptions& options, Version version);
std::unique_ptr<Env> make_reacher(const EnvOptions& options, Version version);
std::unique_ptr<Env> make_pusher(const EnvOptions& options, Version version);
std::unique_ptr<Env> make_swimmer(const EnvOptions& options, Version version);
std::unique_ptr<Env> make_hopper(const EnvOptions& options, Version version);
std::unique_ptr<Env> make_half_cheetah(const EnvOptions& options, Version version);
std::unique_ptr<Env> make_walker2d(const EnvOptions& options, Version version);
std::unique_ptr<Env> make_ant(const EnvOptions& options, Version version);
std::unique_ptr<Env> make_humanoid(const EnvOptions& options, Version version);
std::unique_ptr<Env> make_humanoid_standup(const EnvOptions& options, Version version);

}  // namespace graybox::envs
