// Test factories over a synthetic objective that change one thing (the score, the trainable,
// the metric) and forward the rest to tasks::make_synthetic_factory.
#pragma once

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
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

// The objective, but a member whose x1 is above 6 diverges (NaN score).
class DivergingFactory final : public WrappedSyntheticFactory {
 public:
  double score(core::Trainable& t) const override {
    return t.hyperparameters().get("x1") > 6.0 ? std::nan("") : inner().score(t);
  }
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

// The objective's trainable, but `before_train` is called (on the training thread) at the start of
// every train call, with the trainable about to train.
class HookedTrainable final : public core::Trainable {
 public:
  HookedTrainable(std::unique_ptr<core::Trainable> inner, std::function<void(const core::Trainable&)> before_train)
      : inner_(std::move(inner)), before_train_(std::move(before_train)) {}
  const core::Hyperparameters& hyperparameters() const override { return inner_->hyperparameters(); }
  void set_hyperparameters(const core::Hyperparameters& hp) override { inner_->set_hyperparameters(hp); }
  std::int64_t steps_done() const override { return inner_->steps_done(); }
  bool finished() const override { return inner_->finished(); }
  void train(std::int64_t budget, core::MetricSink& sink) override {
    before_train_(*this);
    inner_->train(budget, sink);
  }
  core::EvalResult evaluate(int episodes) override { return inner_->evaluate(episodes); }
  void save(const std::string& dir) const override { inner_->save(dir); }
  void load(const std::string& dir) override { inner_->load(dir); }
  void reseed(std::uint64_t seed) override { inner_->reseed(seed); }
  void copy_state_from(const core::Trainable& other) override {
    inner_->copy_state_from(*dynamic_cast<const HookedTrainable&>(other).inner_);
  }
  core::Trainable& inner() { return *inner_; }

 private:
  std::unique_ptr<core::Trainable> inner_;
  std::function<void(const core::Trainable&)> before_train_;
};

class HookedFactory final : public WrappedSyntheticFactory {
 public:
  explicit HookedFactory(std::function<void(const core::Trainable&)> before_train)
      : before_train_(std::move(before_train)) {}
  std::unique_ptr<core::Trainable> make(const std::vector<std::string>& overrides, std::uint64_t seed,
                                        std::int64_t max_units) const override {
    return std::make_unique<HookedTrainable>(inner().make(overrides, seed, max_units), before_train_);
  }
  double score(core::Trainable& t) const override {
    return inner().score(static_cast<HookedTrainable&>(t).inner());
  }

 private:
  std::function<void(const core::Trainable&)> before_train_;
};

// `count` threads meet: arrive() returns true once `count` callers are inside it at the same
// time, false if that did not happen by the deadline (so a test of too few threads fails
// instead of hanging). Later callers return at once with the first meeting's result.
class Rendezvous {
 public:
  Rendezvous(int count, std::chrono::seconds timeout)
      : count_(count), deadline_(std::chrono::steady_clock::now() + timeout) {}
  bool arrive() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (++inside_ >= count_) met_ = true;
    wake_.notify_all();
    wake_.wait_until(lock, deadline_, [&] { return met_; });
    return met_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  int count_;
  int inside_ = 0;
  bool met_ = false;
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace graybox::tasks::testing
