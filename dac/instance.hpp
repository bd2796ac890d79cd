// Instances of the control problem and the instance-set file that lists them.
//
// An instance is one supervised training run up to its seed: data set, model, batch size,
// optimizer (sgd with momentum, or adamw), step budget in minibatches, initial lr and weight
// decay. The instance's seed fixes its data split (and a generated data set); the weights,
// data order and dropout come from the run seed the env is reset with.
//
// The file (YAML) holds a training set and a test set:
//   train:
//     - name: ts_mlp_sgd
//       data: {name: teacher_student, teacher: {dim: 20, hidden: 32, classes: 4, examples: 4000}}
//       model: {type: mlp, widths: [64]}
//       optimizer: {name: sgd, momentum: 0.9, lr: 0.05, weight_decay: 1e-4}
//       batch_size: 64
//       budget: 600
//       seed: 1
//   test:
//     - ...
// data takes name, limit, val_fraction, test_fraction, dir and teacher (dim, hidden, classes,
// examples, label_noise); model takes type, widths, channels, activation, dropout, batch_norm;
// optimizer takes name, lr, weight_decay, momentum (sgd), nesterov (sgd), beta1, beta2 (adamw).
// Every problem is a core::ConfigError "FILE:LINE:COL: FIELD: message" (exit 2): an unknown
// key, a bad value, a duplicate name, an empty set, or a test instance that differs from a
// training instance only in its seed (it must differ in data set, model or budget).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tasks/supervised_task.hpp"

namespace graybox::dac {

struct Instance {
  std::string name;
  tasks::SupervisedDataOptions data;
  optim::ModelSpec model;
  optim::OptimizerKind optimizer = optim::OptimizerKind::kAdamW;
  double lr = 1e-3, weight_decay = 0.0;
  double momentum = 0.9;  // sgd
  bool nesterov = false;  // sgd
  double beta1 = 0.9, beta2 = 0.999;  // adamw
  std::int64_t batch_size = 128;
  std::int64_t budget = 1000;  // minibatches
  std::uint64_t seed = 1;      // the data split
  std::string where;           // "FILE:LINE:COL" of its entry
};

struct InstanceSet {
  std::vector<Instance> train, test;
};

InstanceSet load_instance_set(const std::string& path);
// The same from YAML text; `source` stands in for the file name in messages.
InstanceSet parse_instance_set(const std::string& yaml_text, const std::string& source);

// The data of instances, loaded once per distinct data set and split (the instance's data
// options and seed) and kept for the cache's life. Not thread-safe: one per thread.
class DataCache {
 public:
  const optim::Split& get(const Instance& instance);

 private:
  std::map<std::string, optim::Split> splits_;
};

// The same instance apart from its seed (and name): data set, model, optimizer and budget.
bool same_problem(const Instance& a, const Instance& b);

// The supervised task of one episode: the instance run with `run_seed` (weights, data order,
// dropout), a constant schedule, no validation passes of its own, epochs enough for the budget
// (`steps_per_epoch` of the loaded training set).
tasks::SupervisedTaskConfig task_config(const Instance& instance, std::uint64_t run_seed,
                                        std::int64_t steps_per_epoch);

}  // namespace graybox::dac
