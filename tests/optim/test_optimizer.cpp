// The controllable optimizer against hand-computed updates: one AdamW step in closed form,
// SGD with (Nesterov) momentum and decoupled decay, values set between steps and per group,
// and a save/load round trip that continues with the same numbers.
#include "optim/optimizer.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace graybox::optim {
namespace {

// A parameter with a fixed gradient g (loss = sum(g * θ)).
torch::Tensor param(std::vector<double> values) {
  return torch::tensor(values, torch::kFloat64).requires_grad_(true);
}
void set_grad(const torch::Tensor& p, std::vector<double> g) {
  p.mutable_grad() = torch::tensor(g, torch::kFloat64);
}

TEST(Optimizer, OneAdamWStepEqualsClosedForm) {
  const std::vector<double> theta = {1.0, -2.0, 0.5}, g = {0.3, -0.1, 2.0};
  const double lr = 0.01, wd = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  auto p = param(theta);
  OptimizerSettings s;
  s.lr = lr, s.weight_decay = wd, s.beta1 = b1, s.beta2 = b2, s.eps = eps;
  ControllableOptimizer opt(OptimizerKind::kAdamW, {p}, s);
  set_grad(p, g);
  opt.step();
  for (std::size_t i = 0; i < theta.size(); ++i) {
    // m = (1-β1) g, v = (1-β2) g², bias-corrected m̂ = g, v̂ = g²;
    // θ ← θ(1 − lr·λ) − lr·m̂/(√v̂ + ε)
    const double m_hat = (1 - b1) * g[i] / (1 - b1), v_hat = (1 - b2) * g[i] * g[i] / (1 - b2);
    const double expected = theta[i] * (1 - lr * wd) - lr * m_hat / (std::sqrt(v_hat) + eps);
    EXPECT_NEAR(p[static_cast<int64_t>(i)].item<double>(), expected, 1e-15) << i;
  }
  // A second step after changing lr, weight decay and betas mid-run uses the new values.
  const double lr2 = 0.5, wd2 = 0.0, b1n = 0.5, b2n = 0.9;
  opt.set_lr(lr2);
  opt.set_weight_decay(wd2);
  opt.set_betas(b1n, b2n);
  EXPECT_EQ(opt.lr(), lr2);
  EXPECT_EQ(opt.beta1(), b1n);
  const auto before = p.detach().clone();
  set_grad(p, g);
  opt.step();
  for (std::size_t i = 0; i < theta.size(); ++i) {
    const double m1 = (1 - b1) * g[i], v1 = (1 - b2) * g[i] * g[i];
    const double m2 = b1n * m1 + (1 - b1n) * g[i], v2 = b2n * v1 + (1 - b2n) * g[i] * g[i];
    const double m_hat = m2 / (1 - b1n * b1n), v_hat = v2 / (1 - b2n * b2n);
    const double expected = before[static_cast<int64_t>(i)].item<double>() - lr2 * m_hat / (std::sqrt(v_hat) + eps);
    EXPECT_NEAR(p[static_cast<int64_t>(i)].item<double>(), expected, 1e-12) << i;
  }
  EXPECT_EQ(opt.steps_taken(), 2);
}

TEST(Optimizer, NormalizedWeightDecayFormula) {
  EXPECT_DOUBLE_EQ(normalized_weight_decay(0.05, 128, 50000, 10), 0.05 * std::sqrt(128.0 / 500000.0));
  EXPECT_DOUBLE_EQ(normalized_weight_decay(1.0, 100, 100, 1), 1.0);
  EXPECT_THROW(normalized_weight_decay(1.0, 0, 100, 1), std::invalid_argument);
}

TEST(Optimizer, SgdNesterovWithDecoupledDecay) {
  const double lr = 0.1, mu = 0.9, wd = 0.01;
  auto p = param({1.0});
  OptimizerSettings s;
  s.lr = lr, s.momentum = mu, s.nesterov = true, s.weight_decay = wd;
  ControllableOptimizer opt(OptimizerKind::kSgd, {p}, s);
  double theta = 1.0, buf = 0.0;
  for (int k = 0; k < 3; ++k) {
    const double g = 2.0 * theta;  // gradient of θ²
    set_grad(p, {g});
    opt.step();
    theta *= 1 - lr * wd;  // SGDW: decay before the step, not through the momentum buffer
    buf = k == 0 ? g : mu * buf + g;
    theta -= lr * (g + mu * buf);
    EXPECT_NEAR(p.item<double>(), theta, 1e-14) << k;
  }
  EXPECT_THROW(opt.set_momentum(0.0), std::invalid_argument);  // Nesterov needs momentum
  EXPECT_THROW(opt.set_lr(-1.0), std::invalid_argument);
}

TEST(Optimizer, PerGroupValues) {
  auto a = param({1.0}), b = param({1.0});
  OptimizerSettings s;
  s.lr = 0.1;
  ControllableOptimizer opt(OptimizerKind::kSgd, std::vector<std::vector<torch::Tensor>>{{a}, {b}},
                            std::vector<OptimizerSettings>{s});
  EXPECT_EQ(opt.num_groups(), 2);
  opt.set_lr(0.5, 1);
  EXPECT_EQ(opt.lr(0), 0.1);
  EXPECT_EQ(opt.lr(1), 0.5);
  set_grad(a, {1.0});
  set_grad(b, {1.0});
  opt.step();
  EXPECT_NEAR(a.item<double>(), 0.9, 1e-15);
  EXPECT_NEAR(b.item<double>(), 0.5, 1e-15);
  EXPECT_THROW(opt.set_lr(0.1, 2), std::out_of_range);
}

TEST(Optimizer, AdamCoupledL2MatchesPyTorchAdam) {
  auto p = param({1.0}), q = param({1.0});
  OptimizerSettings s;
  s.lr = 0.1, s.weight_decay = 0.5, s.decoupled_weight_decay = false;
  ControllableOptimizer ours(OptimizerKind::kAdam, {p}, s);
  torch::optim::Adam plain({q}, torch::optim::AdamOptions(0.1).weight_decay(0.5));
  for (int k = 0; k < 3; ++k) {
    set_grad(p, {0.3});
    set_grad(q, {0.3});
    ours.step();
    plain.step();
    EXPECT_EQ(p.item<double>(), q.item<double>());
  }
}

TEST(Optimizer, SaveLoadContinuesIdentically) {
  OptimizerSettings s;
  s.lr = 0.05, s.weight_decay = 0.01;
  auto p = param({1.0, 2.0});
  ControllableOptimizer a(OptimizerKind::kAdamW, {p}, s);
  set_grad(p, {0.1, -0.2});
  a.step();
  a.set_lr(0.02);
  torch::serialize::OutputArchive out;
  a.save(out);
  std::stringstream buffer;
  out.save_to(buffer);

  auto p2 = p.detach().clone().requires_grad_(true);
  ControllableOptimizer b(OptimizerKind::kAdamW, {p2}, s);
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  b.load(in);
  EXPECT_EQ(b.lr(), 0.02);
  EXPECT_EQ(b.steps_taken(), 1);
  set_grad(p, {0.3, 0.1});
  set_grad(p2, {0.3, 0.1});
  a.step();
  b.step();
  EXPECT_TRUE(torch::equal(p, p2));
}

// fused_step (Adam in one loop per parameter) equals step (LibTorch's Adam) to float rounding
// over several steps, with coupled L2, decoupled decay and none, on float parameters; its state
// is LibTorch's own, so a fused optimizer saves and a plain one continues from it.
TEST(Optimizer, FusedAdamStepMatchesLibTorchsStep) {
  for (const double decay : {0.0, 0.1}) {
    for (const bool decoupled : {false, true}) {
      OptimizerSettings s;
      s.lr = 0.01, s.weight_decay = decay, s.decoupled_weight_decay = decoupled;
      torch::manual_seed(3);
      const torch::Tensor start = torch::randn({7, 5});
      auto a = start.clone().requires_grad_(true), b = start.clone().requires_grad_(true);
      ControllableOptimizer fused(OptimizerKind::kAdam, {a}, s), plain(OptimizerKind::kAdam, {b}, s);
      for (int k = 0; k < 6; ++k) {
        const torch::Tensor g = torch::randn({7, 5});
        a.mutable_grad() = g.clone();
        b.mutable_grad() = g.clone();
        fused.fused_step();
        plain.step();
        EXPECT_LT((a - b).abs().max().item<double>(), 1e-6) << decay << " " << decoupled << " step " << k;
        EXPECT_GT((a - start).abs().max().item<double>(), 1e-3);
      }
      torch::serialize::OutputArchive out;
      fused.save(out);
      std::stringstream buffer;
      out.save_to(buffer);
      auto c = a.detach().clone().requires_grad_(true);
      ControllableOptimizer resumed(OptimizerKind::kAdam, {c}, s);
      torch::serialize::InputArchive in;
      in.load_from(buffer);
      resumed.load(in);
      const torch::Tensor g = torch::randn({7, 5});
      a.mutable_grad() = g.clone();
      c.mutable_grad() = g.clone();
      fused.fused_step();
      resumed.step();
      EXPECT_LT((a - c).abs().max().item<double>(), 1e-6);
    }
  }
}

}  // namespace
}  // namespace graybox::optim
