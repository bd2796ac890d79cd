#include <gtest/gtest.h>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "agents/mlp_pass.hpp"
#include "agents/torch_mlp.hpp"

namespace graybox::agents {
namespace {

double worst_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// MlpPass's forward, its parameter gradients and its input gradient equal LibTorch's forward
// and autograd on the same network (to float rounding), with and without a ReLU after the last
// layer, for a loss that weights every output differently.
void pass_matches_autograd(bool relu_last) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(7);
  torch::nn::Sequential net = relu_mlp(5, {16, 16}, 3, generator);
  if (relu_last) net->push_back(torch::nn::ReLU());
  const int batch = 9;
  const torch::Tensor x = torch::randn({batch, 5}, generator).requires_grad_(true);
  const torch::Tensor weights = torch::randn({batch, 3}, generator);

  const torch::Tensor y = net->forward(x);
  (y * weights).sum().backward();
  std::vector<torch::Tensor> reference;
  for (const auto& p : net->parameters()) reference.push_back(p.grad().clone());
  for (auto& p : net->parameters()) p.mutable_grad().fill_(123.0f);  // the pass overwrites, never adds

  MlpPass pass(net, relu_last);
  const torch::Tensor x_data = x.detach().contiguous();
  const float* out = pass.forward(x_data.data_ptr<float>(), batch);
  const torch::Tensor out_t = torch::from_blob(const_cast<float*>(out), {batch, 3}).clone();
  EXPECT_LT(worst_difference(out_t, y.detach()), 1e-6);
  if (relu_last) {
    EXPECT_GE(out_t.min().item<double>(), 0.0);
  }
  const torch::Tensor dy = weights.contiguous();
  const float* dx = pass.backward(dy.data_ptr<float>(), /*weight_grads=*/true, /*input_grad=*/true);
  const torch::Tensor dx_t = torch::from_blob(const_cast<float*>(dx), {batch, 5}).clone();
  EXPECT_LT(worst_difference(dx_t, x.grad()), 1e-5);
  const auto params = net->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_LT(worst_difference(params[i].grad(), reference[i]), 1e-5) << "parameter " << i;
  }
  // Without weight gradients the parameters' gradients are left alone.
  for (auto& p : net->parameters()) p.mutable_grad().zero_();
  pass.forward(x_data.data_ptr<float>(), batch);
  pass.backward(dy.data_ptr<float>(), /*weight_grads=*/false, /*input_grad=*/true);
  for (const auto& p : net->parameters()) EXPECT_EQ(p.grad().abs().sum().item<double>(), 0.0);
}

TEST(MlpPass, ForwardAndBackwardMatchAutograd) { pass_matches_autograd(false); }
TEST(MlpPass, ForwardAndBackwardMatchAutogradWithAReluLast) { pass_matches_autograd(true); }

// A parameter changed in place (as a checkpoint load or a PBT copy changes it) is what the next
// forward uses.
TEST(MlpPass, SeesParametersChangedAfterItWasBuilt) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(3);
  torch::nn::Sequential net = relu_mlp(2, {4}, 1, generator), other = relu_mlp(2, {4}, 1, generator);
  MlpPass pass(net);
  std::vector<float> x = {0.5f, -1.0f};
  copy_parameters(*other, *net);
  const float y = pass.forward(x.data(), 1)[0];
  torch::NoGradGuard no_grad;
  const float expected = other->forward(torch::from_blob(x.data(), {1, 2})).item<float>();
  EXPECT_NEAR(y, expected, 1e-6);
}

}  // namespace
}  // namespace graybox::agents
