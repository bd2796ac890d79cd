// Trainable: the one kind of object every controller drives. It trains for a budget (env steps
// for an RL task, minibatches for a supervised one; never seconds), reports metrics through a
// MetricSink, evaluates, and saves or loads its complete state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/hyperparameters.hpp"

namespace graybox::core {

class MetricSink {
 public:
  virtual ~MetricSink() = default;
  virtual void metric(std::int64_t step, const std::string& name, double value) = 0;
  virtual void event(std::int64_t step, const std::string& kind, const std::string& detail) = 0;
};

// A sink that drops everything (benchmarks, trials whose per-step metrics nobody reads).
class NullSink final : public MetricSink {
 public:
  void metric(std::int64_t, const std::string&, double) override {}
  void event(std::int64_t, const std::string&, const std::string&) override {}
};

struct EvalResult {
  std::vector<double> returns;
  std::vector<std::int64_t> lengths;
  double mean = 0.0;
  double std = 0.0;  // population standard deviation
};

class Trainable {
 public:
  virtual ~Trainable() = default;

  virtual const Hyperparameters& hyperparameters() const = 0;
  // Takes effect at the next update. Throws std::invalid_argument for a bad value.
  virtual void set_hyperparameters(const Hyperparameters& hp) = 0;

  // Budget units done so far, and the total the run was configured for.
  virtual std::int64_t steps_done() const = 0;
  virtual bool finished() const = 0;
  // Trains for at least `budget` more units (whole updates), or until finished().
  virtual void train(std::int64_t budget, MetricSink& sink) = 0;

  virtual EvalResult evaluate(int episodes) = 0;

  // Complete state into / from a directory that already exists.
  virtual void save(const std::string& dir) const = 0;
  virtual void load(const std::string& dir) = 0;

  // Replaces every random stream that training draws from from now on (action noise, data
  // order, env resets, dropout) with streams derived from `seed`; weights, statistics, the
  // episodes in progress and counters stay as they are. PBT calls it after an exploit, so that a
  // copy does not replay its donor's noise in lockstep.
  virtual void reseed(std::uint64_t seed) = 0;

  // Becomes an exact copy of `other` (a trainable of the same task and shape), in memory:
  // weights, optimizer moments, normaliser statistics, RNG, counters and hyperparameters. PBT's
  // exploit step. Throws std::invalid_argument for a trainable of another kind or shape.
  virtual void copy_state_from(const Trainable& other) = 0;
};

}  // namespace graybox::core
