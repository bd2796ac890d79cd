// ControllableOptimizer: LibTorch's SGD (momentum, Nesterov), Adam or AdamW behind one type
// whose learning rate, weight decay, momentum and betas can be read and set before any step,
// per parameter group. The values live here (the source of truth) and are pushed into
// LibTorch's group options when they change, so a set costs a few stores, not a rebuild.
// Includes LibTorch: include it only from .cpp files that already use torch.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "optim/optimizer_settings.hpp"

namespace graybox::optim {

class ControllableOptimizer {
 public:
  static constexpr int kAllGroups = -1;

  // One settings entry per group (or one for all groups).
  ControllableOptimizer(OptimizerKind kind, std::vector<std::vector<torch::Tensor>> groups,
                        std::vector<OptimizerSettings> settings);
  ControllableOptimizer(OptimizerKind kind, std::vector<torch::Tensor> params,
                        const OptimizerSettings& settings)
      : ControllableOptimizer(kind, std::vector<std::vector<torch::Tensor>>{std::move(params)},
                              std::vector<OptimizerSettings>{settings}) {}

  OptimizerKind kind() const { return kind_; }
  int num_groups() const { return static_cast<int>(settings_.size()); }
  const OptimizerSettings& settings(int group = 0) const { return settings_.at(group); }

  double lr(int group = 0) const { return settings(group).lr; }
  double weight_decay(int group = 0) const { return settings(group).weight_decay; }
  double momentum(int group = 0) const { return settings(group).momentum; }
  double beta1(int group = 0) const { return settings(group).beta1; }
  double beta2(int group = 0) const { return settings(group).beta2; }

  // Setters take effect at the next step(). Throw std::invalid_argument on a bad value.
  void set_lr(double value, int group = kAllGroups);
  void set_weight_decay(double value, int group = kAllGroups);
  void set_momentum(double value, int group = kAllGroups);
  void set_betas(double beta1, double beta2, int group = kAllGroups);
  // The five controllable values (lr, weight decay, momentum, betas) at once; eps, dampening,
  // Nesterov and the decoupling choice stay as constructed.
  void set_controllable(const OptimizerSettings& values, int group = kAllGroups);

  void zero_grad();
  void step();
  // The same step for Adam written as one loop per parameter (LibTorch's arithmetic, in float,
  // on its own state tensors, so checkpoints and copies are unchanged): some ten tensor
  // operations per parameter replaced by one pass, for the off-policy agents' hand-written
  // update. Other kinds take step().
  void fused_step();
  std::int64_t steps_taken() const { return steps_; }

  // Takes the other optimizer's moments, step counts and settings, parameter by parameter in
  // group order (deep copies: the two never share a tensor). The other must have the same kind
  // and group shapes; throws std::invalid_argument otherwise.
  void copy_state_from(const ControllableOptimizer& other);

  // Moments, step counts and the settings of every group.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

  torch::optim::Optimizer& torch_optimizer() { return *optimizer_; }

 private:
  template <typename F>
  void for_groups(int group, F&& apply);
  void push(int group);  // settings_[group] -> LibTorch's options
  void decay_decoupled();  // θ ← θ·(1 − lr·λ) where this class applies the decay itself

  OptimizerKind kind_;
  std::vector<OptimizerSettings> settings_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::int64_t steps_ = 0;
};

}  // namespace graybox::optim
