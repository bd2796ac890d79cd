#include "agents/mlp_pass.hpp"

#include <ATen/Parallel.h>

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

// out[j] = sum over rows of g[r, j] for cols columns of a matrix with rows of length ld (the
// bias gradient).
void column_sums(const float* __restrict g, int rows, int cols, int ld, float* __restrict out) {
  std::fill(out, out + cols, 0.0f);
  for (int r = 0; r < rows; ++r) {
    const float* __restrict row = g + static_cast<std::size_t>(r) * ld;
    for (int j = 0; j < cols; ++j) out[j] += row[j];
  }
}

// f(first, count) over [0, n): in two halves side by side when LibTorch has two threads and this
// is not already inside a parallel region (TwinCriticPass runs two passes side by side), else
// once. Every product is split along rows or columns of its output, never along the summed
// dimension, and BLAS runs single-threaded inside the region, so each output element is the sum
// it is in one piece: the same numbers with one thread or two. At these shapes two row halves
// on one thread each are faster than BLAS's own two threads.
template <typename F>
void in_halves(int n, F&& f) {
  if (n < 32 || at::get_num_threads() < 2 || at::in_parallel_region()) {
    f(0, n);
    return;
  }
  const int half = n / 2;
#pragma omp parallel for num_threads(2) schedule(static, 1)
  for (int k = 0; k < 2; ++k) f(k == 0 ? 0 : half, k == 0 ? half : n - half);
}

}  // namespace

void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, const float* a, int a_cols, const float* b,
          int b_cols, float* c) {
  // BLAS is column-major: C^T = op(B)^T · op(A)^T.
  const float one = 1.0f, zero = 0.0f;
  const char ta = transpose_a ? 'T' : 'N', tb = transpose_b ? 'T' : 'N';
  sgemm_(&tb, &ta, &n, &m, &k, &one, b, &b_cols, a, &a_cols, &zero, c, &n);
}

void MlpPass::add_layers(const torch::nn::Sequential& net) {
  for (const auto& child : net->modules(/*include_self=*/false)) {
    const auto* linear = child->as<torch::nn::Linear>();
    if (!linear) continue;
    Layer layer;
    layer.weights = {linear->weight};
    layer.biases = {linear->bias};
    layer.out = static_cast<int>(linear->weight.size(0));
    layer.in = static_cast<int>(linear->weight.size(1));
    layer.relu = true;
    layers_.push_back(std::move(layer));
  }
}

MlpPass::MlpPass(const torch::nn::Sequential& net, bool relu_last) {
  add_layers(net);
  if (layers_.empty()) throw std::invalid_argument("MlpPass: a network without Linear layers");
  layers_.back().relu = relu_last;
}

MlpPass::MlpPass(const torch::nn::Sequential& trunk, const std::vector<torch::nn::Sequential>& heads) {
  add_layers(trunk);
  Layer stacked;
  for (const auto& head : heads) {
    MlpPass one(head);
    if (one.layers_.size() != 1) throw std::invalid_argument("MlpPass: a head of more than one Linear layer");
    Layer& l = one.layers_.front();
    if (stacked.out > 0 && l.in != stacked.in) throw std::invalid_argument("MlpPass: heads of different input widths");
    stacked.in = l.in;
    stacked.out += l.out;
    stacked.weights.push_back(l.weights.front());
    stacked.biases.push_back(l.biases.front());
  }
  if (layers_.empty() || stacked.out == 0 || layers_.back().out != stacked.in) {
    throw std::invalid_argument("MlpPass: heads that do not fit the trunk");
  }
  layers_.push_back(std::move(stacked));
}

namespace {

// Rows of each part, one after another, into `out` (a stacked weight or bias).
const float* stack(const std::vector<torch::Tensor>& parts, std::vector<float>& out) {
  if (parts.size() == 1) return parts.front().data_ptr<float>();
  out.clear();
  for (const auto& p : parts) out.insert(out.end(), p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
  return out.data();
}

// The inverse of stack for gradients: consecutive blocks of `stacked` into each part's grad.
void unstack_gradients(const std::vector<float>& stacked, std::vector<torch::Tensor>& parts) {
  std::size_t at = 0;
  for (auto& p : parts) {
    float* g = gradient_of(p).data_ptr<float>();
    std::copy_n(stacked.data() + at, p.numel(), g);
    at += static_cast<std::size_t>(p.numel());
  }
}

}  // namespace

const float* MlpPass::Layer::weight() { return stack(weights, stacked_w); }
const float* MlpPass::Layer::bias() { return stack(biases, stacked_b); }

const float* MlpPass::forward(const float* x, int batch) {
  torch::NoGradGuard no_grad;
  x_ = x;
  batch_ = batch;
  const float* input = x;
  for (Layer& l : layers_) {
    l.y.resize(static_cast<std::size_t>(batch) * l.out);
    const float* w = l.weight();
    const float* b = l.bias();
    float* y = l.y.data();
    in_halves(batch, [&](int r, int rows) {  // x · Wᵀ + b, rows r .. r + rows
      gemm(false, true, rows, l.out, l.in, input + static_cast<std::size_t>(r) * l.in, l.in, w, l.in,
           y + static_cast<std::size_t>(r) * l.out);
      add_bias(y + static_cast<std::size_t>(r) * l.out, b, rows, l.out, l.relu);
    });
    input = y;
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
      const bool stacked = l.weights.size() > 1;
      if (stacked) {
        l.stacked_dw.resize(static_cast<std::size_t>(l.out) * l.in);
        l.stacked_db.resize(static_cast<std::size_t>(l.out));
      }
      float* dw = stacked ? l.stacked_dw.data() : gradient_of(l.weights.front()).data_ptr<float>();
      float* db = stacked ? l.stacked_db.data() : gradient_of(l.biases.front()).data_ptr<float>();
      in_halves(l.out, [&](int o, int count) {  // gᵀ · x and the column sums of g, outputs o .. o + count
        gemm(true, false, count, l.in, batch, g + o, l.out, input, l.in, dw + static_cast<std::size_t>(o) * l.in);
        column_sums(g + o, batch, count, l.out, db + o);
      });
      if (stacked) {
        unstack_gradients(l.stacked_dw, l.weights);
        unstack_gradients(l.stacked_db, l.biases);
      }
    }
    if (k == 0 && !input_grad) break;
    l.dx.resize(static_cast<std::size_t>(batch) * l.in);
    const float* w = l.weight();
    float* dx = l.dx.data();
    const float* y_before = k > 0 && layers_[k - 1].relu ? layers_[k - 1].y.data() : nullptr;
    in_halves(batch, [&](int r, int rows) {  // g · W, rows r .. r + rows, through the ReLU before
      const std::size_t at = static_cast<std::size_t>(r) * l.in;
      gemm(false, false, rows, l.in, l.out, g + static_cast<std::size_t>(r) * l.out, l.out, w, l.in, dx + at);
      if (y_before) mask_by_relu(dx + at, y_before + at, static_cast<std::size_t>(rows) * l.in);
    });
    g = dx;
  }
  return input_grad ? layers_.front().dx.data() : nullptr;
}

}  // namespace graybox::agents
