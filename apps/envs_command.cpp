#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/commands.hpp"
#include "envs/env.hpp"

namespace graybox::apps {

int envs_command(bool json) {
  nlohmann::json list = nlohmann::json::array();
  if (!json) std::printf("%-26s %7s %7s %8s %9s %10s\n", "id", "obs", "action", "dt", "max_steps", "threshold");
  for (const auto& id : envs::env_ids()) {
    const envs::EnvSpec spec = envs::env_spec(id);
    if (json) {
      list.push_back({{"id", spec.id}, {"obs_dim", spec.obs_dim}, {"act_dim", spec.act_dim},
                      {"dt", spec.dt}, {"frame_skip", spec.frame_skip},
                      {"max_episode_steps", spec.max_episode_steps},
                      {"reward_threshold", spec.reward_threshold},
                      {"act_low", spec.act_low}, {"act_high", spec.act_high}});
    } else {
      std::printf("%-26s %7d %7d %8.4g %9d %10.4g\n", spec.id.c_str(), spec.obs_dim, spec.act_dim,
                  spec.dt, spec.max_episode_steps, spec.reward_threshold);
    }
  }
  if (json) std::printf("%s\n", list.dump(2).c_str());
  return 0;
}

}  // namespace graybox::apps
