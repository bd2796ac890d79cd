// SupervisedTrainer: the supervised training loop. A model (ModelSpec), a ControllableOptimizer
// and a data split; one train_step() is one minibatch of cross-entropy. The training order is
// reshuffled every epoch from a seeded stream, and the complete state (weights, optimizer
// moments, dropout generator, data-order RNG and position in the epoch) saves and loads, so a
// resumed run repeats the numbers of an uninterrupted one. Torch-free header (pimpl).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "optim/dataset.hpp"
#include "optim/model.hpp"
#include "optim/optimizer_settings.hpp"

namespace graybox::optim {

struct TrainerConfig {
  ModelSpec model;
  OptimizerKind optimizer = OptimizerKind::kAdamW;
  OptimizerSettings settings;  // initial values; the owner sets them again before each step
  std::int64_t batch_size = 128;
  std::int64_t eval_batch_size = 1000;
  std::uint64_t init_seed = 1;   // weights
  std::uint64_t data_seed = 2;   // minibatch order
  std::uint64_t noise_seed = 3;  // dropout
};

struct StepResult {
  double loss = 0, accuracy = 0;
  bool finite = true;  // false: the loss was NaN or infinite and no update was made
};

struct EvalMetrics {
  double loss = 0, accuracy = 0;
};

class SupervisedTrainer {
 public:
  SupervisedTrainer(const TrainerConfig& config, Split data);
  ~SupervisedTrainer();
  SupervisedTrainer(const SupervisedTrainer&) = delete;
  SupervisedTrainer& operator=(const SupervisedTrainer&) = delete;

  // The optimizer's controllable values; take effect at the next step.
  const OptimizerSettings& settings() const;
  void set_settings(const OptimizerSettings& values);

  StepResult train_step();
  // "train", "val" or "test"; the model runs in eval mode (batch norm statistics, no dropout).
  EvalMetrics evaluate(const std::string& split) const;

  // Probes for controllers: the L2 norm of the gradient the last train_step() computed (0
  // before the first), and every parameter flattened into `out`, in model order.
  double gradient_norm() const;
  void flat_parameters(std::vector<float>& out) const;

  std::int64_t steps_done() const;
  std::int64_t steps_per_epoch() const;
  std::int64_t train_size() const;
  std::int64_t parameter_count() const;
  const Split& data() const;

  // Becomes an exact copy of the other trainer's state, in memory: weights and buffers, optimizer
  // moments, dropout generator, data order and position, counters. Same model and data set
  // size, or std::invalid_argument.
  void copy_state_from(const SupervisedTrainer& other);
  // New streams for the data order of the coming epochs and for dropout; the epoch in progress
  // keeps its order.
  void reseed(std::uint64_t data_seed, std::uint64_t noise_seed);

  // Complete state in one file; load throws core::UserError naming the file.
  void save(const std::string& path) const;
  void load(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sets LibTorch's intra-op threads for the calling thread (1 is fastest for small models on
// these machines).
void set_torch_threads(int threads);
int torch_threads();  // the calling thread's count

}  // namespace graybox::optim
