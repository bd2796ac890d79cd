#include "optim/trainer.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "optim/optimizer.hpp"
#include "optim/save_archive.hpp"

namespace graybox::optim {
namespace {

// Dropout that draws its mask from a given generator rather than LibTorch's global one, so
// trials running side by side stay independent and a checkpoint can hold the noise state.
struct GenDropoutImpl : torch::nn::Module {
  GenDropoutImpl(double p, at::Generator generator) : p(p), generator(std::move(generator)) {}
  torch::Tensor forward(const torch::Tensor& x) {
    if (!is_training() || p == 0.0) return x;
    const torch::Tensor keep = torch::empty_like(x).bernoulli_(1.0 - p, generator);
    return x * keep * (1.0 / (1.0 - p));
  }
  double p;
  at::Generator generator;
};
TORCH_MODULE(GenDropout);

void push_activation(torch::nn::Sequential& net, const std::string& name) {
  if (name == "relu") net->push_back(torch::nn::ReLU());
  else if (name == "tanh") net->push_back(torch::nn::Tanh());
  else if (name == "gelu") net->push_back(torch::nn::GELU());
  else if (name == "elu") net->push_back(torch::nn::ELU());
  else throw std::invalid_argument("activation '" + name + "' is not one of: relu, tanh, gelu, elu");
}

torch::nn::Sequential build_model(const ModelSpec& spec, const std::vector<std::int64_t>& shape,
                                  int classes, at::Generator& init, at::Generator& noise) {
  torch::nn::Sequential net;
  std::int64_t width = 1;
  for (const auto d : shape) width *= d;
  if (spec.type == "cnn") {
    if (shape.size() != 3) throw std::invalid_argument("a cnn needs image data (channels, height, width)");
    std::int64_t channels = shape[0], height = shape[1], breadth = shape[2];
    for (const long long out : spec.channels) {
      net->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, out, 3).padding(1)));
      if (spec.batch_norm) net->push_back(torch::nn::BatchNorm2d(out));
      push_activation(net, spec.activation);
      net->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
      channels = out;
      height /= 2;
      breadth /= 2;
    }
    width = channels * height * breadth;
  } else if (spec.type != "mlp") {
    throw std::invalid_argument("model type '" + spec.type + "' is not one of: mlp, cnn");
  }
  net->push_back(torch::nn::Flatten());
  for (const long long out : spec.widths) {
    net->push_back(torch::nn::Linear(width, out));
    if (spec.batch_norm && spec.type == "mlp") net->push_back(torch::nn::BatchNorm1d(out));
    push_activation(net, spec.activation);
    if (spec.dropout > 0) net->push_back(GenDropout(spec.dropout, noise));
    width = out;
  }
  net->push_back(torch::nn::Linear(width, classes));

  // PyTorch's default initialisation, uniform ±1/√fan_in for weights and biases.
  torch::NoGradGuard no_grad;
  for (const auto& module : net->modules(/*include_self=*/false)) {
    torch::Tensor weight, bias;
    if (auto* linear = module->as<torch::nn::Linear>()) {
      weight = linear->weight, bias = linear->bias;
    } else if (auto* conv = module->as<torch::nn::Conv2d>()) {
      weight = conv->weight, bias = conv->bias;
    } else {
      continue;
    }
    const double bound = 1.0 / std::sqrt(static_cast<double>(weight[0].numel()));
    weight.uniform_(-bound, bound, init);
    bias.uniform_(-bound, bound, init);
  }
  return net;
}

torch::Tensor to_tensor(const std::vector<float>& x, std::int64_t n, const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> sizes = {n};
  sizes.insert(sizes.end(), shape.begin(), shape.end());
  return torch::from_blob(const_cast<float*>(x.data()), sizes, torch::kFloat32).clone();
}

torch::Tensor labels_tensor(const std::vector<std::int64_t>& y) {
  return torch::from_blob(const_cast<std::int64_t*>(y.data()), {static_cast<std::int64_t>(y.size())}, torch::kInt64).clone();
}

}  // namespace

int torch_threads() { return torch::get_num_threads(); }

void set_torch_threads(int threads) {
  // The count is per thread (OpenMP); setting it again can rebuild LibTorch's pool, so only on change.
  if (torch::get_num_threads() != threads) torch::set_num_threads(threads);
}

struct SupervisedTrainer::Impl {
  TrainerConfig config;
  Split data;
  at::Generator init_generator, noise_generator;
  torch::nn::Sequential model;
  std::unique_ptr<ControllableOptimizer> optimizer;
  torch::Tensor x[3], y[3];  // train, val, test

  core::Rng order_rng;
  std::string epoch_rng_state;  // the order RNG at the start of this epoch (to rebuild order)
  std::vector<std::int64_t> order;
  std::int64_t position = 0;    // examples of this epoch already used
  std::int64_t steps = 0;

  int split_index(const std::string& name) const {
    if (name == "train") return 0;
    if (name == "val") return 1;
    if (name == "test") return 2;
    throw std::invalid_argument("split must be train, val or test");
  }

  void shuffle_epoch() {
    order.resize(static_cast<std::size_t>(data.train.size()));
    std::iota(order.begin(), order.end(), 0);
    order_rng.shuffle(order.begin(), order.end());
  }
};

SupervisedTrainer::SupervisedTrainer(const TrainerConfig& config, Split data) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.config = config;
  m.data = std::move(data);
  if (m.data.train.size() == 0) throw std::invalid_argument("the training set is empty");
  if (config.batch_size < 1) throw std::invalid_argument("batch size must be >= 1");
  m.init_generator = at::make_generator<at::CPUGeneratorImpl>(config.init_seed);
  m.noise_generator = at::make_generator<at::CPUGeneratorImpl>(config.noise_seed);
  const int classes = std::max({m.data.train.num_classes, m.data.val.num_classes, m.data.test.num_classes});
  m.model = build_model(config.model, m.data.train.shape, classes, m.init_generator, m.noise_generator);
  m.optimizer = std::make_unique<ControllableOptimizer>(config.optimizer, m.model->parameters(), config.settings);
  const Dataset* sets[3] = {&m.data.train, &m.data.val, &m.data.test};
  for (int i = 0; i < 3; ++i) {
    m.x[i] = to_tensor(sets[i]->x, sets[i]->size(), sets[i]->shape.empty() ? m.data.train.shape : sets[i]->shape);
    m.y[i] = labels_tensor(sets[i]->y);
  }
  m.order_rng.seed(config.data_seed);
}

SupervisedTrainer::~SupervisedTrainer() = default;

const OptimizerSettings& SupervisedTrainer::settings() const { return impl_->optimizer->settings(); }
void SupervisedTrainer::set_settings(const OptimizerSettings& values) { impl_->optimizer->set_controllable(values); }

StepResult SupervisedTrainer::train_step() {
  auto& m = *impl_;
  if (m.position == 0) {
    m.epoch_rng_state = m.order_rng.state();
    m.shuffle_epoch();
  }
  const std::int64_t n = std::min(m.config.batch_size, m.data.train.size() - m.position);
  const torch::Tensor index = torch::from_blob(m.order.data() + m.position, {n}, torch::kInt64);
  const torch::Tensor xb = m.x[0].index_select(0, index);
  const torch::Tensor yb = m.y[0].index_select(0, index);

  const torch::Tensor logits = m.model->forward(xb);
  const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, yb);
  StepResult result;
  result.loss = loss.item<double>();
  if (!std::isfinite(result.loss)) {
    result.finite = false;
    return result;
  }
  result.accuracy = static_cast<double>(logits.argmax(1).eq(yb).sum().item<std::int64_t>()) / static_cast<double>(n);
  m.optimizer->zero_grad();
  loss.backward();
  m.optimizer->step();
  m.position += n;
  if (m.position >= m.data.train.size()) m.position = 0;
  ++m.steps;
  return result;
}

EvalMetrics SupervisedTrainer::evaluate(const std::string& split) const {
  auto& m = *impl_;
  const int i = m.split_index(split);
  const std::int64_t total = m.x[i].size(0);
  EvalMetrics out;
  if (total == 0) return out;
  torch::NoGradGuard no_grad;
  m.model->eval();
  double loss_sum = 0;
  std::int64_t correct = 0;
  for (std::int64_t begin = 0; begin < total; begin += m.config.eval_batch_size) {
    const std::int64_t end = std::min(total, begin + m.config.eval_batch_size);
    const torch::Tensor logits = m.model->forward(m.x[i].slice(0, begin, end));
    const torch::Tensor yb = m.y[i].slice(0, begin, end);
    loss_sum += torch::nn::functional::cross_entropy(
        logits, yb, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum)).item<double>();
    correct += logits.argmax(1).eq(yb).sum().item<std::int64_t>();
  }
  m.model->train();
  out.loss = loss_sum / static_cast<double>(total);
  out.accuracy = static_cast<double>(correct) / static_cast<double>(total);
  return out;
}

double SupervisedTrainer::gradient_norm() const {
  double sum = 0;
  for (const auto& p : impl_->model->parameters()) {
    const torch::Tensor& g = p.grad();
    if (g.defined()) sum += g.pow(2).sum().item<double>();
  }
  return std::sqrt(sum);
}

void SupervisedTrainer::flat_parameters(std::vector<float>& out) const {
  out.resize(static_cast<std::size_t>(parameter_count()));
  std::size_t at = 0;
  for (const auto& p : impl_->model->parameters()) {
    const torch::Tensor c = p.detach().contiguous();
    const float* data = c.data_ptr<float>();
    std::copy(data, data + c.numel(), out.begin() + static_cast<std::ptrdiff_t>(at));
    at += static_cast<std::size_t>(c.numel());
  }
}

std::int64_t SupervisedTrainer::steps_done() const { return impl_->steps; }
std::int64_t SupervisedTrainer::steps_per_epoch() const {
  return (impl_->data.train.size() + impl_->config.batch_size - 1) / impl_->config.batch_size;
}
std::int64_t SupervisedTrainer::train_size() const { return impl_->data.train.size(); }
std::int64_t SupervisedTrainer::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& p : impl_->model->parameters()) n += p.numel();
  return n;
}
const Split& SupervisedTrainer::data() const { return impl_->data; }

void SupervisedTrainer::copy_state_from(const SupervisedTrainer& other) {
  auto& m = *impl_;
  const auto& o = *other.impl_;
  if (&other == this) return;
  if (o.data.train.size() != m.data.train.size()) {
    throw std::invalid_argument("copy_state_from: the other trainer has a different training set");
  }
  const auto copy_all = [](const std::vector<torch::Tensor>& from, const std::vector<torch::Tensor>& to) {
    if (from.size() != to.size()) throw std::invalid_argument("copy_state_from: the other model has a different shape");
    for (std::size_t i = 0; i < from.size(); ++i) {
      if (from[i].sizes() != to[i].sizes()) throw std::invalid_argument("copy_state_from: the other model has a different shape");
      to[i].copy_(from[i]);
    }
  };
  {
    torch::NoGradGuard no_grad;
    copy_all(o.model->parameters(), m.model->parameters());
    copy_all(o.model->buffers(), m.model->buffers());  // batch-norm statistics
  }
  m.optimizer->copy_state_from(*o.optimizer);
  m.noise_generator.set_state(o.noise_generator.get_state());
  m.order_rng = o.order_rng;
  m.epoch_rng_state = o.epoch_rng_state;
  m.order = o.order;
  m.position = o.position;
  m.steps = o.steps;
}

void SupervisedTrainer::reseed(std::uint64_t data_seed, std::uint64_t noise_seed) {
  // epoch_rng_state still rebuilds this epoch's order on load; only the coming shuffles change.
  impl_->order_rng.seed(data_seed);
  impl_->noise_generator.set_current_seed(noise_seed);
}

void SupervisedTrainer::save(const std::string& path) const {
  const auto& m = *impl_;
  torch::serialize::OutputArchive root, model, optimizer;
  m.model->save(model);
  m.optimizer->save(optimizer);
  root.write("model", model);
  root.write("optimizer", optimizer);
  root.write("noise_generator", m.noise_generator.get_state());
  root.write("counters", torch::tensor(std::vector<std::int64_t>{m.steps, m.position, m.data.train.size()}));
  const std::string rng = m.epoch_rng_state.empty() ? m.order_rng.state() : m.epoch_rng_state;
  const std::string current = m.order_rng.state();
  root.write("epoch_rng", torch::tensor(std::vector<std::int64_t>(rng.begin(), rng.end())));
  root.write("order_rng", torch::tensor(std::vector<std::int64_t>(current.begin(), current.end())));
  save_archive(root, path);
}

void SupervisedTrainer::load(const std::string& path) {
  auto& m = *impl_;
  try {
    torch::serialize::InputArchive root, model, optimizer;
    root.load_from(path);
    root.read("model", model);
    root.read("optimizer", optimizer);
    torch::Tensor noise, counters, epoch_rng, order_rng;
    root.read("noise_generator", noise);
    root.read("counters", counters);
    root.read("epoch_rng", epoch_rng);
    root.read("order_rng", order_rng);
    const auto* c = counters.data_ptr<std::int64_t>();
    if (counters.numel() != 3 || c[2] != m.data.train.size()) {
      throw std::runtime_error("the checkpoint was trained on a different data set");
    }
    m.model->load(model);
    m.optimizer->load(optimizer);
    m.noise_generator.set_state(noise);
    const auto text = [](const torch::Tensor& t) {
      const auto* p = t.data_ptr<std::int64_t>();
      return std::string(p, p + t.numel());
    };
    m.steps = c[0];
    m.position = c[1];
    m.epoch_rng_state = text(epoch_rng);
    // Rebuild this epoch's order from the RNG as it was when the epoch began.
    m.order_rng.set_state(m.epoch_rng_state);
    if (m.position > 0) m.shuffle_epoch();
    m.order_rng.set_state(text(order_rng));
  } catch (const c10::Error& e) {
    throw core::UserError(path + ": not a valid supervised checkpoint (" + e.what_without_backtrace() + ")");
  } catch (const std::exception& e) {
    throw core::UserError(path + ": not a valid supervised checkpoint (" + e.what() + ")");
  }
}

}  // namespace graybox::optim
