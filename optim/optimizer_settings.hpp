// The values a controller may read and set on an optimizer, per parameter group. Torch-free,
// so configs and tasks can name them without compiling LibTorch.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

namespace graybox::optim {

enum class OptimizerKind { kSgd, kAdam, kAdamW };

inline OptimizerKind parse_optimizer_kind(const std::string& name) {
  if (name == "sgd") return OptimizerKind::kSgd;
  if (name == "adam") return OptimizerKind::kAdam;
  if (name == "adamw") return OptimizerKind::kAdamW;
  throw std::invalid_argument("'" + name + "' is not one of: sgd, adam, adamw");
}

struct OptimizerSettings {
  double lr = 1e-3;
  // sgd: decoupled (SGDW, θ ← θ·(1 − lr·λ) before the step) unless decoupled_weight_decay is
  // false, then L2 as PyTorch's SGD; adam: L2 added to the gradient, as PyTorch's Adam (or
  // decoupled when decoupled_weight_decay is true, which makes it AdamW); adamw: decoupled.
  double weight_decay = 0.0;
  double momentum = 0.0;     // sgd
  double dampening = 0.0;    // sgd
  bool nesterov = false;     // sgd (needs momentum > 0)
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam, adamw
  bool decoupled_weight_decay = true;  // sgd and adam only; adamw is always decoupled
};

// Normalised weight decay (Loshchilov & Hutter, AdamW paper): λ = λ_norm·√(b / (B·T)),
// b = batch size, B = training points, T = total epochs.
inline double normalized_weight_decay(double lambda_norm, double batch_size, double train_points,
                                      double epochs) {
  if (!(batch_size > 0 && train_points > 0 && epochs > 0)) {
    throw std::invalid_argument("normalized weight decay needs batch size, training points and epochs > 0");
  }
  return lambda_norm * std::sqrt(batch_size / (train_points * epochs));
}

}  // namespace graybox::optim
