// PpoPolicy: the deterministic half of a trained PPO agent, for deployment: the actor's mean
// action on the observation normalised with the agent's frozen statistics, clipped to the
// action bounds (what PpoAgent::act_deterministic computes). Saved as one LibTorch archive
// (policy.pt) holding the actor's layers, the normaliser, the bounds and a JSON text `meta`
// that the owner fills (e.g. the control options a meta-controller was trained with).
#pragma once

#include <string>
#include <vector>

#include "agents/mlp_inference.hpp"
#include "agents/normalizers.hpp"

namespace graybox::agents {

class PpoPolicy {
 public:
  PpoPolicy(MlpInference actor, ObsNormalizer normalizer, std::vector<double> act_low, std::vector<double> act_high,
            std::string meta);

  int obs_dim() const { return actor_.in_dim(); }
  int act_dim() const { return actor_.out_dim(); }
  const std::string& meta() const { return meta_; }
  const std::vector<double>& act_low() const { return act_low_; }
  const std::vector<double>& act_high() const { return act_high_; }

  // One observation (obs_dim) -> one action (act_dim).
  void act(const double* obs, double* action);

  void save(const std::string& path) const;
  // Throws core::UserError naming the path for a missing or invalid file.
  static PpoPolicy load(const std::string& path);

 private:
  MlpInference actor_;
  ObsNormalizer normalizer_;
  std::vector<double> act_low_, act_high_;
  std::string meta_;
  std::vector<float> row_, mean_;
};

}  // namespace graybox::agents
