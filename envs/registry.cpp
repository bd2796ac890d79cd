// The env registry: ids in a stable order (all v5 tasks, then the v4 variants), factories, and
// default specs (built once per id from an env with default options, then cached).
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "envs/env.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

using Factory = std::unique_ptr<Env> (*)(const EnvOptions&, Version);

struct Registration {
  const char* id;
  Factory make;
  Version version;
};

const Registration kRegistry[] = {
    {"InvertedPendulum-v5", &make_inverted_pendulum, Version::kV5},
    {"InvertedDoublePendulum-v5", &make_inverted_double_pendulum, Version::kV5},
    {"Reacher-v5", &make_reacher, Version::kV5},
    {"Pusher-v5", &make_pusher, Version::kV5},
    {"Swimmer-v5", &make_swimmer, Version::kV5},
    {"Hopper-v5", &make_hopper, Version::kV5},
    {"HalfCheetah-v5", &make_half_cheetah, Version::kV5},
    {"Walker2d-v5", &make_walker2d, Version::kV5},
    {"Ant-v5", &make_ant, Version::kV5},
    {"Humanoid-v5", &make_humanoid, Version::kV5},
    {"HumanoidStandup-v5", &make_humanoid_standup, Version::kV5},
    {"InvertedPendulum-v4", &make_inverted_pendulum, Version::kV4},
    {"InvertedDoublePendulum-v4", &make_inverted_double_pendulum, Version::kV4},
    {"Reacher-v4", &make_reacher, Version::kV4},
    {"Pusher-v4", &make_pusher, Version::kV4},
    {"Swimmer-v4", &make_swimmer, Version::kV4},
    {"Hopper-v4", &make_hopper, Version::kV4},
    {"HalfCheetah-v4", &make_half_cheetah, Version::kV4},
    {"Walker2d-v4", &make_walker2d, Version::kV4},
    {"Ant-v4", &make_ant, Version::kV4},
    {"Humanoid-v4", &make_humanoid, Version::kV4},
    {"HumanoidStandup-v4", &make_humanoid_standup, Version::kV4},
};

const Registration& find(const std::string& id) {
  for (const Registration& r : kRegistry) {
    if (id == r.id) return r;
  }
  std::string msg = "unknown env id '" + id + "' (known:";
  for (const Registration& r : kRegistry) msg += std::string(" ") + r.id;
  throw EnvError(msg + ")");
}

}  // namespace

std::vector<std::string> env_ids() {
  std::vector<std::string> ids;
  for (const Registration& r : kRegistry) ids.emplace_back(r.id);
  return ids;
}

EnvSpec env_spec(const std::string& id) {
  const Registration& r = find(id);
  static std::mutex mutex;
  static std::map<std::string, EnvSpec> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(id);
  if (it == cache.end()) it = cache.emplace(id, r.make(EnvOptions{}, r.version)->spec()).first;
  return it->second;
}

StepResult step_checked(Env& env, const std::vector<double>& action, std::vector<double>& obs) {
  const EnvSpec& spec = env.spec();
  if (action.size() != static_cast<std::size_t>(spec.act_dim)) {
    throw EnvError(spec.id + ": expected " + std::to_string(spec.act_dim) + " action values, got " +
                   std::to_string(action.size()));
  }
  obs.resize(static_cast<std::size_t>(spec.obs_dim));
  return env.step(action.data(), obs.data());
}

std::unique_ptr<Env> make_env(const std::string& id, const EnvOptions& options) {
  const Registration& r = find(id);
  return r.make(options, r.version);
}

}  // namespace graybox::envs
