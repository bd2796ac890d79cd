// The env registry: ids in a stable order, default specs, factories.
#include <string>
#include <vector>

#include "envs/env.hpp"
#include "envs/tasks.hpp"

namespace graybox::envs {
namespace {

struct Registration {
  const char* id;
  std::unique_ptr<Env> (*make)(const EnvOptions&);
  EnvSpec (*spec)();
};

const Registration kRegistry[] = {
    {"InvertedPendulum-v5", &make_inverted_pendulum, &inverted_pendulum_spec},
    {"Hopper-v5", &make_hopper, &hopper_spec},
    {"HalfCheetah-v5", &make_half_cheetah, &half_cheetah_spec},
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

EnvSpec env_spec(const std::string& id) { return find(id).spec(); }

std::unique_ptr<Env> make_env(const std::string& id, const EnvOptions& options) {
  return find(id).make(options);
}

}  // namespace graybox::envs
