// LibTorch pieces of the agents: the Linear layers of a network for its float acting copy; for
// the off-policy agents, ReLU MLPs initialised as PyTorch's nn.Linear
// (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases) from a private generator, Polyak
// averaging of target networks, in-memory copies and parameter checksums. Includes LibTorch:
// include it only from .cpp files that already use torch.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "agents/mlp_inference.hpp"

namespace graybox::agents {

// in -> hidden... (ReLU after each) -> out, the last layer linear.
inline torch::nn::Sequential relu_mlp(int in, const std::vector<long long>& hidden, int out, at::Generator& generator) {
  torch::nn::Sequential net;
  long long width = in;
  const auto linear = [&](long long from, long long to) {
    auto layer = torch::nn::Linear(from, to);
    torch::NoGradGuard no_grad;
    const double bound = 1.0 / std::sqrt(static_cast<double>(from));
    layer->weight.uniform_(-bound, bound, generator);
    layer->bias.uniform_(-bound, bound, generator);
    return layer;
  };
  for (const long long h : hidden) {
    net->push_back(linear(width, h));
    net->push_back(torch::nn::ReLU());
    width = h;
  }
  net->push_back(linear(width, out));
  return net;
}

// target <- tau * source + (1 - tau) * target, parameter by parameter (CleanRL's soft update),
// in one loop per parameter (the tensor expression costs two temporaries and three operations).
inline void soft_update(const torch::nn::Module& source, torch::nn::Module& target, double tau) {
  torch::NoGradGuard no_grad;
  const auto from = source.parameters();
  auto to = target.parameters();
  const float keep = static_cast<float>(1.0 - tau), take = static_cast<float>(tau);
  for (std::size_t i = 0; i < from.size(); ++i) {
    const torch::Tensor f = from[i].contiguous();
    TORCH_CHECK(to[i].is_contiguous(), "soft_update: a target parameter that is not contiguous");
    const float* a = f.data_ptr<float>();
    float* b = to[i].data_ptr<float>();
    for (std::int64_t k = 0, n = f.numel(); k < n; ++k) b[k] = take * a[k] + keep * b[k];
  }
}

inline void copy_parameters(const torch::nn::Module& source, torch::nn::Module& target) {
  torch::NoGradGuard no_grad;
  const auto from = source.parameters();
  auto to = target.parameters();
  for (std::size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
}

inline double abs_sum(const torch::nn::Module& module) {
  double sum = 0;
  for (const auto& p : module.parameters()) sum += p.detach().abs().sum().item<double>();
  return sum;
}

inline std::vector<float> flat_parameters(const torch::nn::Module& module) {
  std::vector<float> out;
  for (const auto& p : module.parameters()) {
    const torch::Tensor t = p.detach().contiguous();
    out.insert(out.end(), t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  }
  return out;
}

// The Linear layers of `module` in order (weights out x in, as LibTorch stores them), for an
// MlpInference copy.
inline std::vector<MlpInference::Layer> linear_layers(const torch::nn::Module& module) {
  std::vector<MlpInference::Layer> layers;
  for (const auto& child : module.modules(/*include_self=*/false)) {
    const auto* linear = child->as<torch::nn::Linear>();
    if (!linear) continue;
    MlpInference::Layer layer;
    const torch::Tensor w = linear->weight.detach().contiguous();
    const torch::Tensor b = linear->bias.detach().contiguous();
    layer.out = static_cast<int>(w.size(0));
    layer.in = static_cast<int>(w.size(1));
    layer.weight.assign(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
    layer.bias.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    layers.push_back(std::move(layer));
  }
  return layers;
}

// A batch x cols float tensor over `data` (no copy; valid while data is).
inline torch::Tensor rows(std::vector<float>& data, long long cols) {
  return torch::from_blob(data.data(), {static_cast<long long>(data.size()) / cols, cols}, torch::kFloat32);
}

}  // namespace graybox::agents
