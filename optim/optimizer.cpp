#include "optim/optimizer.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace graybox::optim {
namespace {

void check(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

void validate(OptimizerKind kind, const OptimizerSettings& s) {
  check(std::isfinite(s.lr) && s.lr >= 0, "learning rate must be >= 0");
  check(std::isfinite(s.weight_decay) && s.weight_decay >= 0, "weight decay must be >= 0");
  check(std::isfinite(s.momentum) && s.momentum >= 0 && s.momentum < 1, "momentum must be in [0, 1)");
  check(s.beta1 >= 0 && s.beta1 < 1 && s.beta2 >= 0 && s.beta2 < 1, "betas must be in [0, 1)");
  check(s.eps > 0, "eps must be > 0");
  if (kind == OptimizerKind::kSgd && s.nesterov) {
    check(s.momentum > 0 && s.dampening == 0, "Nesterov momentum needs momentum > 0 and dampening 0");
  }
}

// Whether weight decay is applied here, decoupled, rather than inside LibTorch's step.
bool decays_here(OptimizerKind kind, const OptimizerSettings& s) {
  return kind != OptimizerKind::kAdamW && s.decoupled_weight_decay;
}

std::unique_ptr<torch::optim::OptimizerOptions> make_options(OptimizerKind kind, const OptimizerSettings& s) {
  const double torch_decay = decays_here(kind, s) ? 0.0 : s.weight_decay;
  switch (kind) {
    case OptimizerKind::kSgd:
      return std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(s.lr)
          .momentum(s.momentum).dampening(s.dampening).nesterov(s.nesterov).weight_decay(torch_decay));
    case OptimizerKind::kAdam:
      return std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(s.lr)
          .betas(std::make_tuple(s.beta1, s.beta2)).eps(s.eps).weight_decay(torch_decay));
    case OptimizerKind::kAdamW:
      return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(s.lr)
          .betas(std::make_tuple(s.beta1, s.beta2)).eps(s.eps).weight_decay(s.weight_decay));
  }
  throw std::logic_error("unknown optimizer kind");
}

}  // namespace

ControllableOptimizer::ControllableOptimizer(OptimizerKind kind,
                                             std::vector<std::vector<torch::Tensor>> groups,
                                             std::vector<OptimizerSettings> settings)
    : kind_(kind) {
  check(!groups.empty(), "an optimizer needs at least one parameter group");
  if (settings.size() == 1 && groups.size() > 1) settings.resize(groups.size(), settings.front());
  check(settings.size() == groups.size(), "one settings entry per parameter group");
  for (const auto& s : settings) validate(kind, s);
  settings_ = std::move(settings);
  std::vector<torch::optim::OptimizerParamGroup> torch_groups;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    torch_groups.emplace_back(std::move(groups[g]), make_options(kind, settings_[g]));
  }
  switch (kind) {
    case OptimizerKind::kSgd:
      optimizer_ = std::make_unique<torch::optim::SGD>(std::move(torch_groups),
          static_cast<torch::optim::SGDOptions&>(*make_options(kind, settings_[0])));
      break;
    case OptimizerKind::kAdam:
      optimizer_ = std::make_unique<torch::optim::Adam>(std::move(torch_groups),
          static_cast<torch::optim::AdamOptions&>(*make_options(kind, settings_[0])));
      break;
    case OptimizerKind::kAdamW:
      optimizer_ = std::make_unique<torch::optim::AdamW>(std::move(torch_groups),
          static_cast<torch::optim::AdamWOptions&>(*make_options(kind, settings_[0])));
      break;
  }
}

template <typename F>
void ControllableOptimizer::for_groups(int group, F&& apply) {
  if (group != kAllGroups && (group < 0 || group >= num_groups())) {
    throw std::out_of_range("no parameter group " + std::to_string(group));
  }
  const int first = group == kAllGroups ? 0 : group;
  const int last = group == kAllGroups ? num_groups() : group + 1;
  for (int g = first; g < last; ++g) {
    OptimizerSettings next = settings_[g];
    apply(next);
    validate(kind_, next);
    settings_[g] = next;
    push(g);
  }
}

void ControllableOptimizer::push(int group) {
  const OptimizerSettings& s = settings_[group];
  auto& options = optimizer_->param_groups()[group].options();
  const double torch_decay = decays_here(kind_, s) ? 0.0 : s.weight_decay;
  switch (kind_) {
    case OptimizerKind::kSgd: {
      auto& o = static_cast<torch::optim::SGDOptions&>(options);
      o.lr(s.lr).momentum(s.momentum).weight_decay(torch_decay);
      break;
    }
    case OptimizerKind::kAdam: {
      auto& o = static_cast<torch::optim::AdamOptions&>(options);
      o.lr(s.lr).betas(std::make_tuple(s.beta1, s.beta2)).weight_decay(torch_decay);
      break;
    }
    case OptimizerKind::kAdamW: {
      auto& o = static_cast<torch::optim::AdamWOptions&>(options);
      o.lr(s.lr).betas(std::make_tuple(s.beta1, s.beta2)).weight_decay(torch_decay);
      break;
    }
  }
}

void ControllableOptimizer::set_lr(double value, int group) {
  for_groups(group, [&](OptimizerSettings& s) { s.lr = value; });
}
void ControllableOptimizer::set_weight_decay(double value, int group) {
  for_groups(group, [&](OptimizerSettings& s) { s.weight_decay = value; });
}
void ControllableOptimizer::set_momentum(double value, int group) {
  for_groups(group, [&](OptimizerSettings& s) { s.momentum = value; });
}
void ControllableOptimizer::set_betas(double beta1, double beta2, int group) {
  for_groups(group, [&](OptimizerSettings& s) {
    s.beta1 = beta1;
    s.beta2 = beta2;
  });
}

void ControllableOptimizer::set_controllable(const OptimizerSettings& v, int group) {
  for_groups(group, [&](OptimizerSettings& s) {
    s.lr = v.lr;
    s.weight_decay = v.weight_decay;
    s.momentum = v.momentum;
    s.beta1 = v.beta1;
    s.beta2 = v.beta2;
  });
}

void ControllableOptimizer::zero_grad() { optimizer_->zero_grad(); }

void ControllableOptimizer::decay_decoupled() {
  // Decoupled decay θ ← θ·(1 − lr·λ) for SGD and Adam, before the gradient step, as LibTorch's
  // AdamW does it (only parameters that have a gradient decay).
  torch::NoGradGuard no_grad;
  for (int g = 0; g < num_groups(); ++g) {
    const OptimizerSettings& s = settings_[g];
    if (!decays_here(kind_, s) || s.weight_decay == 0.0) continue;
    for (auto& p : optimizer_->param_groups()[g].params()) {
      if (p.grad().defined()) p.mul_(1.0 - s.lr * s.weight_decay);
    }
  }
}

void ControllableOptimizer::step() {
  decay_decoupled();
  optimizer_->step();
  ++steps_;
}

void ControllableOptimizer::fused_step() {
  if (kind_ != OptimizerKind::kAdam) {
    step();
    return;
  }
  decay_decoupled();
  torch::NoGradGuard no_grad;
  auto& state = optimizer_->state();
  std::vector<float> l2_gradient;
  for (int g = 0; g < num_groups(); ++g) {
    const OptimizerSettings& s = settings_[g];
    const double l2 = decays_here(kind_, s) ? 0.0 : s.weight_decay;  // LibTorch's Adam adds it to the gradient
    for (auto& p : optimizer_->param_groups()[g].params()) {
      const torch::Tensor& grad = p.grad();
      if (!grad.defined()) continue;
      check(p.is_contiguous() && grad.is_contiguous() && p.scalar_type() == torch::kFloat32,
            "fused_step: a parameter that is not a contiguous float tensor");
      const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
      auto found = state.find(key);
      if (found == state.end()) {
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        found = state.emplace(key, std::move(fresh)).first;
      }
      auto& st = static_cast<torch::optim::AdamParamState&>(*found->second);
      st.step(st.step() + 1);
      const double bias_correction1 = 1.0 - std::pow(s.beta1, static_cast<double>(st.step()));
      const double bias_correction2 = 1.0 - std::pow(s.beta2, static_cast<double>(st.step()));
      const float beta1 = static_cast<float>(s.beta1), beta2 = static_cast<float>(s.beta2);
      const float keep1 = static_cast<float>(1.0 - s.beta1), keep2 = static_cast<float>(1.0 - s.beta2);
      const float root_bc2 = static_cast<float>(std::sqrt(bias_correction2)), eps = static_cast<float>(s.eps);
      const float step_size = static_cast<float>(s.lr / bias_correction1), decay = static_cast<float>(l2);
      float* __restrict theta = p.data_ptr<float>();
      const float* __restrict gr = grad.data_ptr<float>();
      float* __restrict m = st.exp_avg().data_ptr<float>();
      float* __restrict v = st.exp_avg_sq().data_ptr<float>();
      const std::int64_t n = p.numel();
      if (decay != 0.0f) {
        l2_gradient.resize(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i) l2_gradient[i] = gr[i] + decay * theta[i];
        gr = l2_gradient.data();
      }
      for (std::int64_t i = 0; i < n; ++i) {
        m[i] = m[i] * beta1 + keep1 * gr[i];
        v[i] = v[i] * beta2 + keep2 * gr[i] * gr[i];
        theta[i] -= step_size * m[i] / (std::sqrt(v[i]) / root_bc2 + eps);
      }
    }
  }
  ++steps_;
}

namespace {

std::string state_key(const torch::Tensor& param) { return c10::guts::to_string(param.unsafeGetTensorImpl()); }

torch::Tensor clone_defined(const torch::Tensor& t) { return t.defined() ? t.clone() : t; }

// Adam's and AdamW's states are distinct types with the same fields.
template <typename State>
std::unique_ptr<torch::optim::OptimizerParamState> deep_copy_adam(const torch::optim::OptimizerParamState& state) {
  const auto& s = static_cast<const State&>(state);
  auto copy = std::make_unique<State>();
  copy->step(s.step());
  copy->exp_avg(clone_defined(s.exp_avg()));
  copy->exp_avg_sq(clone_defined(s.exp_avg_sq()));
  copy->max_exp_avg_sq(clone_defined(s.max_exp_avg_sq()));
  return copy;
}

std::unique_ptr<torch::optim::OptimizerParamState> deep_copy(OptimizerKind kind,
                                                             const torch::optim::OptimizerParamState& state) {
  switch (kind) {
    case OptimizerKind::kSgd: {
      const auto& s = static_cast<const torch::optim::SGDParamState&>(state);
      auto copy = std::make_unique<torch::optim::SGDParamState>();
      copy->momentum_buffer(clone_defined(s.momentum_buffer()));
      return copy;
    }
    case OptimizerKind::kAdam:
      return deep_copy_adam<torch::optim::AdamParamState>(state);
    case OptimizerKind::kAdamW:
      return deep_copy_adam<torch::optim::AdamWParamState>(state);
  }
  throw std::logic_error("unknown optimizer kind");
}

}  // namespace

void ControllableOptimizer::copy_state_from(const ControllableOptimizer& other) {
  if (&other == this) return;
  check(other.kind_ == kind_ && other.num_groups() == num_groups(), "copy_state_from: a different kind of optimizer");
  auto& to = *optimizer_;
  const auto& from = *other.optimizer_;
  for (int g = 0; g < num_groups(); ++g) {
    const auto& to_params = to.param_groups()[g].params();
    const auto& from_params = from.param_groups()[g].params();
    check(to_params.size() == from_params.size(), "copy_state_from: parameter groups of different sizes");
    for (std::size_t i = 0; i < to_params.size(); ++i) {
      check(to_params[i].sizes() == from_params[i].sizes(), "copy_state_from: parameters of different shapes");
      to.state().erase(state_key(to_params[i]));
      const auto it = from.state().find(state_key(from_params[i]));
      if (it != from.state().end()) to.state()[state_key(to_params[i])] = deep_copy(kind_, *it->second);
    }
    settings_[g] = other.settings_[g];
    push(g);
  }
  steps_ = other.steps_;
}

void ControllableOptimizer::save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive inner;
  optimizer_->save(inner);
  archive.write("torch", inner);
  std::vector<double> values;
  for (const auto& s : settings_) {
    values.insert(values.end(), {s.lr, s.weight_decay, s.momentum, s.beta1, s.beta2});
  }
  archive.write("settings", torch::tensor(values, torch::kFloat64));
  archive.write("steps", torch::tensor(static_cast<int64_t>(steps_)));
}

void ControllableOptimizer::load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive inner;
  archive.read("torch", inner);
  torch::Tensor values, steps;
  archive.read("settings", values);
  archive.read("steps", steps);
  if (values.numel() != 5 * num_groups()) throw std::runtime_error("the optimizer has a different number of parameter groups");
  optimizer_->load(inner);
  const auto* v = values.data_ptr<double>();
  for (int g = 0; g < num_groups(); ++g) {
    OptimizerSettings& s = settings_[g];
    s.lr = v[5 * g];
    s.weight_decay = v[5 * g + 1];
    s.momentum = v[5 * g + 2];
    s.beta1 = v[5 * g + 3];
    s.beta2 = v[5 * g + 4];
    push(g);
  }
  steps_ = steps.item<int64_t>();
}

}  // namespace graybox::optim
