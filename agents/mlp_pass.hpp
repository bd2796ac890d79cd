// A ReLU MLP's forward and backward pass written out by hand over its LibTorch Linear layers:
// the weights and gradients are the parameters' own tensors, the activations live in buffers
// kept between calls, and nothing builds an autograd graph. SAC's and TD3's hand-written
// updates run their networks through this; the same networks' plain LibTorch forward and
// autograd stay the reference it is tested against (tests/agents/test_off_policy.cpp).
// Includes LibTorch: include it only from .cpp files that already use torch.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace graybox::agents {

// Row-major C[m, n] = op(A) · op(B), op(A) [m, k], op(B) [k, n], each given its stored row
// length, through the BLAS LibTorch links, called directly (ATen's mm_out adds a dispatch and a
// zero fill of C per product). MlpPass's products, and bench_off_policy's ceiling.
void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, const float* a, int a_cols, const float* b,
          int b_cols, float* c);

class MlpPass {
 public:
  // net: Linear layers with a ReLU after each but the last (relu_mlp's shape); with relu_last
  // the last one too (SAC's actor trunk). Keeps handles to the parameters (not their storage),
  // so a checkpoint load or a copy into them is seen by the next call.
  explicit MlpPass(const torch::nn::Sequential& net, bool relu_last = false);
  // trunk (a ReLU after each of its layers, the last too), then one layer that stacks the
  // heads' single Linear layers: the output row is head 0's outputs, then head 1's, ... (SAC's
  // actor: the mean and the log-std of one trunk, in one product instead of two narrow ones).
  MlpPass(const torch::nn::Sequential& trunk, const std::vector<torch::nn::Sequential>& heads);

  // y = net(x) for x [batch, in] row-major (read again by backward: keep it alive until then).
  // Returns y [batch, out], valid until the next forward.
  const float* forward(const float* x, int batch);
  // After forward: dy = dL/dy [batch, out]. With weight_grads, sets (overwrites) every
  // parameter's gradient to dL/dθ; with input_grad, returns dL/dx [batch, in] (else nullptr),
  // valid until the next backward.
  const float* backward(const float* dy, bool weight_grads, bool input_grad);

 private:
  struct Layer {
    // [out_k, in], [out_k]: the Linear's parameters, or the stacked heads' (out = Σ out_k).
    std::vector<torch::Tensor> weights, biases;
    int in = 0, out = 0;
    bool relu = false;
    std::vector<float> y, dx;  // output (after the ReLU), dL/d input
    std::vector<float> stacked_w, stacked_b, stacked_dw, stacked_db;  // heads only
    const float* weight();  // [out, in] (stacked for heads, at each call)
    const float* bias();
  };
  void add_layers(const torch::nn::Sequential& net);
  std::vector<Layer> layers_;
  const float* x_ = nullptr;
  int batch_ = 0;
  std::vector<float> masked_dy_;  // dy through the last layer's ReLU (relu_last)
};

}  // namespace graybox::agents
