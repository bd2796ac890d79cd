// The shape an agent is built for: observation and action sizes, the action bounds, the envs
// that step together.
#pragma once

#include <vector>

namespace graybox::agents {

struct AgentShape {
  int obs_dim = 0, act_dim = 0, num_envs = 1;
  std::vector<double> act_low, act_high;  // act_dim each
};

}  // namespace graybox::agents
