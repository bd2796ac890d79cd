// SupervisedTask: a model trained by minibatches on a data set from Debian, as a Trainable.
// Budget is counted in minibatches. Its hyperparameters (learning_rate, weight_decay, momentum,
// beta1, beta2) are read before every minibatch; the configured schedule multiplies the
// learning rate (and, as in AdamWR, optionally the weight decay) at each step. A non-finite
// loss stops the task as diverged (no update is made with it). Saved state is complete:
// weights, optimizer moments, dropout generator, data order and position, counters.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/trainable.hpp"
#include "optim/dataset.hpp"
#include "optim/schedule.hpp"
#include "optim/trainer.hpp"

namespace graybox::tasks {

struct SupervisedDataOptions {
  std::string name = "fashion_mnist";  // fashion_mnist digits iris wine breast_cancer teacher_student
  std::string dir;                     // "" = the Debian package's folder
  double val_fraction = 0.1, test_fraction = 0.2;
  bool standardize = true;
  std::int64_t limit = 0;              // > 0: keep only this many training examples
  std::int64_t split_seed = -1;        // >= 0: seeds the split (and generated data) instead of the run seed
  optim::TeacherStudentOptions teacher;
};

struct SupervisedTaskConfig {
  std::uint64_t seed = 1;
  SupervisedDataOptions data;
  optim::TrainerConfig trainer;       // model, optimizer kind and fixed options, batch size
  bool weight_decay_normalized = false;  // weight_decay is λ_norm (√(b/(B·T)) applied)
  optim::ScheduleSpec schedule;
  bool schedule_in_epochs = true;     // the schedule's t counts epochs (else minibatches)
  bool schedule_weight_decay = false; // the multiplier applies to weight decay too
  std::int64_t epochs = 10;
  std::int64_t eval_interval = 0;     // minibatches between validation passes (0: each epoch)
  core::Hyperparameters hyperparameters;
  int torch_threads = 1;  // LibTorch intra-op threads, set on whichever thread trains the task
};

void add_supervised_schema(core::ConfigSchema& schema);
// Problems (unknown data set, bad schedule) become ConfigErrors naming the key.
SupervisedTaskConfig supervised_task_config(const core::Config& config);
// Loads and splits the configured data set (seeded); throws core::UserError on a bad file.
optim::Split load_supervised_data(const SupervisedDataOptions& options, std::uint64_t seed);

class SupervisedTask : public core::Trainable {
 public:
  explicit SupervisedTask(const SupervisedTaskConfig& config);
  SupervisedTask(const SupervisedTaskConfig& config, optim::Split data);
  ~SupervisedTask() override;

  const core::Hyperparameters& hyperparameters() const override { return hp_; }
  void set_hyperparameters(const core::Hyperparameters& hp) override;
  std::int64_t steps_done() const override;
  bool finished() const override;
  void train(std::int64_t budget, core::MetricSink& sink) override;
  // Validation accuracy (mean and the single "return"); `episodes` is ignored.
  core::EvalResult evaluate(int episodes) override;
  void save(const std::string& dir) const override;
  void load(const std::string& dir) override;
  // In memory: weights, optimizer moments, dropout generator, data order and position, counters.
  void copy_state_from(const core::Trainable& other) override;
  // New streams for the coming epochs' data order and for dropout.
  void reseed(std::uint64_t seed) override;

  optim::EvalMetrics evaluate_split(const std::string& split) const;
  std::int64_t total_steps() const;
  std::int64_t steps_per_epoch() const;
  double epochs_done() const;
  bool diverged() const { return diverged_; }
  // The learning rate and weight decay the next step will use.
  double learning_rate_now() const;
  double weight_decay_now() const;
  optim::SupervisedTrainer& trainer() { return *trainer_; }

 private:
  double multiplier_now() const;
  optim::OptimizerSettings settings_now() const;

  SupervisedTaskConfig config_;
  core::Hyperparameters hp_;
  std::unique_ptr<optim::SupervisedTrainer> trainer_;
  std::shared_ptr<const optim::Schedule> schedule_;
  double weight_decay_scale_ = 1.0;  // √(b/(B·T)) when normalised, else 1
  bool diverged_ = false;
};

}  // namespace graybox::tasks
