// Test factories over a synthetic objective that change one thing (the score, the trainable,
// the metric) and forward the rest to tasks::make_synthetic_factory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/trial_factory.hpp"
#include "tasks/synthetic_task.hpp"

namespace graybox::tasks::testing {

class WrappedSyntheticFactory : public core::TrialFactory {
 public:
  explicit WrappedSyntheticFactory(const std::string& objective = "branin")
      : inner_(make_synthetic_factory(objective)) {}
  const core::ConfigSchema& schema() const override { return inner_->schema(); }
  std::unique_ptr<core::Trainable> make(const std::vector<std::string>& overrides, std::uint64_t seed,
                                        std::int64_t max_units) const override {
    return inner_->make(overrides, seed, max_units);
  }
  std::int64_t unit() const override { return inner_->unit(); }
  double score(core::Trainable& trainable) const override { return inner_->score(trainable); }
  std::string metric() const override { return inner_->metric(); }
  bool maximize() const override { return inner_->maximize(); }
  std::string config_yaml(const std::vector<std::string>& overrides, std::uint64_t seed,
                          std::int64_t max_units) const override {
    return inner_->config_yaml(overrides, seed, max_units);
  }

 protected:
  const core::TrialFactory& inner() const { return *inner_; }

 private:
  std::unique_ptr<core::TrialFactory> inner_;
};

// The objective, but no score yet (core::NoScore, as an RL trial before its first finished
// episode) until a trial has trained `min_steps` steps.
class LateScoreFactory final : public WrappedSyntheticFactory {
 public:
  explicit LateScoreFactory(std::int64_t min_steps) : min_steps_(min_steps) {}
  double score(core::Trainable& t) const override {
    if (t.steps_done() < min_steps_) {
      throw core::NoScore("no episode finished in " + std::to_string(t.steps_done()) + " steps");
    }
    return inner().score(t);
  }

 private:
  std::int64_t min_steps_;
};

}  // namespace graybox::tasks::testing
