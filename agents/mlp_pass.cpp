#include "agents/mlp_pass.hpp"

#include <algorithm>
#include <stdexcept>

// The Fortran BLAS that LibTorch itself calls (libblas.so.3: OpenBLAS here), called directly:
// ATen's mm_out adds a dispatch and a zero fill of the output to every product.
extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                       const float* beta, float* c, const int* ldc);

namespace graybox::agents {
namespace {

torch::Tensor& gradient_of(torch::Tensor& param) {
  torch::Tensor& grad = param.mutable_grad();
  if (!grad.defined()) grad = torch::zeros_like(param);
  return grad;
}

// Through a ReLU: 0 where its output y was not positive, else the gradient (LibTorch's
// threshold_backward). A select, not a branch: half the entries go each way at random.
void mask_by_relu(float* __restrict grad, const float* __restrict y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) grad[i] = y[i] <= 0.0f ? 0.0f : grad[i];
}

// y[r, j] += b[j], then the ReLU (NaN stays NaN) if relu: one pass over the product (LibTorch's
// Linear copies the bias into y before the product and applies the ReLU in a second pass).
void add_bias(float* __restrict y, const float* __restrict b, int rows, int cols, bool relu) {
  for (int r = 0; r < rows; ++r) {
    float* __restrict row = y + static_cast<std::size_t>(r) * cols;
    if (relu) {
      for (int j = 0; j < cols; ++j) {
        const float v = row[j] + b[j];
        row[j] = v < 0.0f ? 0.0f : v;
      }
    } else {
      for (int j = 0; j < cols; ++j) row[j] += b[j];
    }
  }
}

// out[j] = sum over rows of g[r, j] (the bias gradient).
void column_sums(const float* __restrict g, int rows, int cols, float* __restrict out) {
  std::fill(out, out + cols, 0.0f);
  for (int r = 0; r < rows; ++r) {
    const float* __restrict row = g + static_cast<std::size_t>(r) * cols;
    for (int j = 0; j < cols; ++j) out[j] += row[j];
  }
}

}  // namespace

void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, const float* a, int a_cols, const float* b,
          int b_cols, float* c) {
  // BLAS is column-major: C^T = op(B)^T · op(A)^T.
  const float one = 1.0f, zero = 0.0f;
  const char ta = transpose_a ? 'T' : 'N', tb = transpose_b ? 'T' : 'N';
  sgemm_(&tb, &ta, &n, &m, &k, &one, b, &b_cols, a, &a_cols, &zero, c, &n);
}

MlpPass::MlpPass(const torch::nn::Sequential& net, bool relu_last) {
  for (const auto& child : net->modules(/*include_self=*/false)) {
    const auto* linear = child->as<torch::nn::Linear>();
    if (!linear) continue;
    Layer layer;
    layer.weight = linear->weight;
    layer.bias = linear->bias;
    layer.out = static_cast<int>(linear->weight.size(0));
    layer.in = static_cast<int>(linear->weight.size(1));
    layer.relu = true;
    layers_.push_back(std::move(layer));
  }
  if (layers_.empty()) throw std::invalid_argument("MlpPass: a network without Linear layers");
  layers_.back().relu = relu_last;
}

const float* MlpPass::forward(const float* x, int batch) {
  torch::NoGradGuard no_grad;
  x_ = x;
  batch_ = batch;
  const float* input = x;
  for (Layer& l : layers_) {
    l.y.resize(static_cast<std::size_t>(batch) * l.out);
    gemm(false, true, batch, l.out, l.in, input, l.in, l.weight.data_ptr<float>(), l.in, l.y.data());  // x · Wᵀ
    add_bias(l.y.data(), l.bias.data_ptr<float>(), batch, l.out, l.relu);
    input = l.y.data();
  }
  return input;
}

const float* MlpPass::backward(const float* dy, bool weight_grads, bool input_grad) {
  torch::NoGradGuard no_grad;
  const int batch = batch_;
  const float* g = dy;  // dL/d(this layer's pre-activation) once masked
  if (layers_.back().relu) {
    const Layer& last = layers_.back();
    masked_dy_.assign(dy, dy + static_cast<std::size_t>(batch) * last.out);
    mask_by_relu(masked_dy_.data(), last.y.data(), masked_dy_.size());
    g = masked_dy_.data();
  }
  for (std::size_t k = layers_.size(); k-- > 0;) {
    Layer& l = layers_[k];
    const float* input = k == 0 ? x_ : layers_[k - 1].y.data();
    if (weight_grads) {
      float* dw = gradient_of(l.weight).data_ptr<float>();
      gemm(true, false, l.out, l.in, batch, g, l.out, input, l.in, dw);  // gᵀ · x
      column_sums(g, batch, l.out, gradient_of(l.bias).data_ptr<float>());
    }
    if (k == 0 && !input_grad) break;
    l.dx.resize(static_cast<std::size_t>(batch) * l.in);
    gemm(false, false, batch, l.in, l.out, g, l.out, l.weight.data_ptr<float>(), l.in, l.dx.data());  // g · W
    if (k > 0 && layers_[k - 1].relu) mask_by_relu(l.dx.data(), layers_[k - 1].y.data(), l.dx.size());
    g = l.dx.data();
  }
  return input_grad ? layers_.front().dx.data() : nullptr;
}

}  // namespace graybox::agents
