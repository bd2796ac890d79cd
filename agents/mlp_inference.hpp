// A frozen copy of an MLP (tanh for PPO, ReLU for SAC and TD3) for acting: a forward pass over
// plain float arrays, without LibTorch's per-operation overhead (which dominates at batch sizes
// of 1 to 16). The copy is refreshed from the trained network after it changes; it computes the
// same function (to float rounding: the sums run in another order than LibTorch's).
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace graybox::agents {

enum class MlpActivation { kTanh, kRelu };

class MlpInference {
 public:
  struct Layer {
    int in = 0, out = 0;
    std::vector<float> weight;  // out x in, row-major (LibTorch's Linear layout)
    std::vector<float> bias;    // out
  };

  void set_layers(std::vector<Layer> layers, MlpActivation activation = MlpActivation::kTanh) {
    layers_ = std::move(layers);
    activation_ = activation;
    int widest = 0;
    for (const auto& layer : layers_) widest = std::max({widest, layer.in, layer.out});
    a_.assign(static_cast<std::size_t>(widest), 0.0f);
    b_.assign(static_cast<std::size_t>(widest), 0.0f);
  }
  int in_dim() const { return layers_.empty() ? 0 : layers_.front().in; }
  int out_dim() const { return layers_.empty() ? 0 : layers_.back().out; }
  const std::vector<Layer>& layers() const { return layers_; }

  // One input row -> one output row; the activation after every layer but the last.
  void forward(const float* x, float* y) {
    const float* input = x;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const Layer& layer = layers_[l];
      const bool last = l + 1 == layers_.size();
      float* output = last ? y : (l % 2 == 0 ? a_.data() : b_.data());
      for (int o = 0; o < layer.out; ++o) {
        const float* w = layer.weight.data() + static_cast<std::size_t>(o) * layer.in;
        float sum = 0.0f;
        for (int i = 0; i < layer.in; ++i) sum += w[i] * input[i];
        sum += layer.bias[o];
        output[o] = last ? sum : activation_ == MlpActivation::kTanh ? std::tanh(sum) : std::max(sum, 0.0f);
      }
      input = output;
    }
  }

 private:
  std::vector<Layer> layers_;
  MlpActivation activation_ = MlpActivation::kTanh;
  std::vector<float> a_, b_;
};

}  // namespace graybox::agents
