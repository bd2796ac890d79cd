// Models for supervised tasks, described in YAML and built with LibTorch by the trainer:
//   mlp: Flatten, then per width Linear [BatchNorm] activation [Dropout], then a Linear head.
//   cnn: per channel count Conv3x3(pad 1) [BatchNorm] activation MaxPool2, then Flatten,
//        per width Linear activation [Dropout], then a Linear head.
// Initialisation is PyTorch's default (uniform ±1/√fan_in), drawn from the trainer's own
// generator so building a model never touches LibTorch's global RNG.
#pragma once

#include <string>
#include <vector>

namespace graybox::optim {

struct ModelSpec {
  std::string type = "mlp";                 // mlp or cnn
  std::vector<long long> widths = {256};    // hidden widths of the fully connected part
  std::vector<long long> channels = {16, 32};  // cnn: conv channels (each halves the image)
  std::string activation = "relu";          // relu, tanh, gelu, elu
  double dropout = 0.0;
  bool batch_norm = false;
};

}  // namespace graybox::optim
