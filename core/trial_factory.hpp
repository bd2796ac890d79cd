// TrialFactory: how a tuning experiment turns a configuration into a trial. It names the keys
// a search space may set (its schema), builds a seeded Trainable from "key=value" overrides,
// and turns a trained trial into a loss (lower is better) and a score (the task's own metric).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config_schema.hpp"
#include "core/trainable.hpp"

namespace graybox::core {

// Thrown by TrialFactory::score when a trial has no score yet (e.g. no RL episode finished within
// its budget): reported as such, never as a made-up worst value.
class NoScore : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TrialFactory {
 public:
  virtual ~TrialFactory() = default;
  virtual const ConfigSchema& schema() const = 0;
  // max_units: the experiment's largest budget, so schedules (e.g. lr annealing) span it.
  virtual std::unique_ptr<Trainable> make(const std::vector<std::string>& overrides, std::uint64_t seed,
                                          std::int64_t max_units) const = 0;
  // Trainable steps (env steps, minibatches, ...) per budget unit.
  virtual std::int64_t unit() const = 0;
  // The task's metric after training, e.g. a mean return or an objective value; NaN for a
  // diverged trial; throws NoScore when the trial has nothing to be scored by yet.
  virtual double score(Trainable& trainable) const = 0;
  virtual std::string metric() const = 0;
  virtual bool maximize() const = 0;
  // The Hyperparameters name under which a search-space key (a config key) reaches a running
  // trainable through set_hyperparameters, or "" if the key cannot change during training
  // (e.g. a network size). Population-based training needs every tuned key to have one.
  virtual std::string hyperparameter_name(const std::string& key) const { return key; }
  // A config file that reproduces the trial as a single run.
  virtual std::string config_yaml(const std::vector<std::string>& overrides, std::uint64_t seed,
                                  std::int64_t max_units) const = 0;
};

}  // namespace graybox::core
