// Running statistics as checkpoint JSON (state.json), shared by the agents that keep them.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "agents/running_mean_std.hpp"

namespace graybox::agents {

inline nlohmann::json rms_to_json(const RunningMeanStd& rms) {
  return nlohmann::json{{"mean", rms.mean}, {"var", rms.var}, {"count", rms.count}};
}

// Throws std::runtime_error for statistics of another size.
inline void rms_from_json(const nlohmann::json& j, RunningMeanStd& rms) {
  const auto mean = j.at("mean").get<std::vector<double>>();
  const auto var = j.at("var").get<std::vector<double>>();
  if (mean.size() != rms.mean.size() || var.size() != rms.var.size()) {
    throw std::runtime_error("normaliser statistics have the wrong size");
  }
  rms.mean = mean;
  rms.var = var;
  rms.count = j.at("count").get<double>();
}

}  // namespace graybox::agents
