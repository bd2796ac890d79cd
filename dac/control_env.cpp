#include "dac/control_env.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "core/timing.hpp"

namespace graybox::dac {
namespace {

double clip(double x, double low, double high) { return std::min(high, std::max(low, x)); }
double feature(double x) { return std::isfinite(x) ? clip(x, -10.0, 10.0) : 0.0; }

// Where log10 value lies in [log10 low, log10 high], mapped to [−1, 1].
double unit_log(double value, double low, double high) {
  const double a = std::log10(low), b = std::log10(high);
  return b > a ? 2.0 * (std::log10(value) - a) / (b - a) - 1.0 : 0.0;
}

std::string data_key(const Instance& in) {
  const auto& d = in.data;
  std::ostringstream key;
  key.precision(17);
  key << d.name << '|' << d.dir << '|' << d.limit << '|' << d.val_fraction << '|' << d.test_fraction << '|'
      << d.teacher.dim << '|' << d.teacher.hidden << '|' << d.teacher.classes << '|' << d.teacher.examples << '|'
      << d.teacher.label_noise << '|' << in.seed;
  return key.str();
}

}  // namespace

// Takes each minibatch's training loss from SupervisedTask::train: the step's mean and the
// discounted statistics of the log losses.
class ControlEnv::Sink final : public core::MetricSink {
 public:
  Sink(DiscountedStats& stats, double log_chance) : stats_(stats), log_chance_(log_chance) {}
  void metric(std::int64_t, const std::string& name, double value) override {
    if (name != "train/loss") return;
    sum_ += value;
    ++count_;
    stats_.add(std::log(std::max(value, 1e-12)) - log_chance_);
  }
  void event(std::int64_t, const std::string&, const std::string&) override {}
  void clear() { sum_ = 0, count_ = 0; }
  double mean() const { return count_ > 0 ? sum_ / static_cast<double>(count_) : 0.0; }
  std::int64_t count() const { return count_; }

 private:
  DiscountedStats& stats_;
  double log_chance_;
  double sum_ = 0;
  std::int64_t count_ = 0;
};

void check_options(const ControlOptions& o) {
  const auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  if (o.control_interval < 1) fail("control_interval: must be >= 1");
  if (!(o.max_log10_change > 0 && o.max_log10_change <= 3)) fail("max_log10_change: must be in (0, 3]");
  if (!(o.lr_min > 0 && o.lr_min < o.lr_max && std::isfinite(o.lr_max))) fail("lr_min: need 0 < lr_min < lr_max");
  if (!(o.wd_min > 0 && o.wd_min < o.wd_max && std::isfinite(o.wd_max))) fail("wd_min: need 0 < wd_min < wd_max");
  if (o.val_interval < 0) fail("val_interval: must be >= 0");
  if (!(o.feature_decay >= 0 && o.feature_decay < 1)) fail("feature_decay: must be in [0, 1)");
  if (!(o.crash_penalty >= 0 && std::isfinite(o.crash_penalty))) fail("crash_penalty: must be >= 0");
}

ControlEnv::ControlEnv(std::vector<Instance> instances, ControlOptions options)
    : instances_(std::move(instances)), options_(options), stats_(options.feature_decay) {
  check_options(options_);
  if (instances_.empty()) throw std::invalid_argument("a control env needs at least one instance");
  std::int64_t longest = 0;
  for (const auto& in : instances_) longest = std::max(longest, in.budget);
  spec_.id = "SupervisedControl-v0";
  spec_.obs_dim = kObsDim;
  spec_.act_dim = options_.control_weight_decay ? 2 : 1;
  if (options_.action_mode == ActionMode::kMultiplicative) {
    spec_.act_low.assign(static_cast<std::size_t>(spec_.act_dim), -1.0);
    spec_.act_high.assign(static_cast<std::size_t>(spec_.act_dim), 1.0);
  } else {
    spec_.act_low = {std::log10(options_.lr_min)};
    spec_.act_high = {std::log10(options_.lr_max)};
    if (options_.control_weight_decay) {
      spec_.act_low.push_back(std::log10(options_.wd_min));
      spec_.act_high.push_back(std::log10(options_.wd_max));
    }
  }
  spec_.max_episode_steps = static_cast<int>((longest + options_.control_interval - 1) / options_.control_interval);
}

ControlEnv::~ControlEnv() = default;

const optim::Split& ControlEnv::data_for(const Instance& in) {
  const std::string key = data_key(in);
  auto it = data_cache_.find(key);
  if (it == data_cache_.end()) {
    it = data_cache_.emplace(key, tasks::load_supervised_data(in.data, in.seed)).first;
  }
  return it->second;
}

std::int64_t ControlEnv::minibatches_done() const { return task_ ? task_->steps_done() : 0; }

void ControlEnv::reset(std::uint64_t seed, double* obs) {
  core::Rng rng(core::derive_seed(seed, core::Stream::kEnv));
  const std::size_t index = static_cast<std::size_t>(rng.below(instances_.size()));
  reset_instance(index, rng.next_u64(), obs);
}

void ControlEnv::reset_instance(std::size_t index, std::uint64_t run_seed, double* obs) {
  const Instance& in = instances_.at(index);
  index_ = index;
  run_seed_ = run_seed;
  const optim::Split& data = data_for(in);
  const std::int64_t per_epoch = (data.train.size() + in.batch_size - 1) / in.batch_size;
  task_ = std::make_unique<tasks::SupervisedTask>(task_config(in, run_seed, per_epoch), data);
  const int classes = std::max({data.train.num_classes, data.val.num_classes, data.test.num_classes});
  log_chance_ = std::log(std::log(static_cast<double>(std::max(classes, 2))));
  sink_ = std::make_unique<Sink>(stats_, log_chance_);
  stats_.clear();
  lr_ = clip(in.lr, options_.lr_min, options_.lr_max);
  wd_ = clip(in.weight_decay, options_.wd_min, options_.wd_max);
  hp_ = task_->hyperparameters();
  set_task_values();
  task_->trainer().flat_parameters(theta_);
  alignment_.start(theta_);
  train_loss_ = std::exp(log_chance_);
  log_train_prev_ = log_chance_;
  val_loss_ = task_->evaluate_split("val").loss;
  grad_norm_ = 1.0;  // log10 = 0 until a gradient exists
  crashed_ = false;
  done_ = false;
  started_ = true;
  return_ = 0;
  length_ = 0;
  timing_ = ControlTiming{};
  write_obs(obs);
}

void ControlEnv::apply(const double* action) {
  // A component that is not a number keeps its current value.
  const auto next = [&](double a, double value, double low, double high) {
    if (!std::isfinite(a)) return value;
    if (options_.action_mode == ActionMode::kMultiplicative) {
      return clip(value * std::pow(10.0, clip(a, -1.0, 1.0) * options_.max_log10_change), low, high);
    }
    return clip(std::pow(10.0, clip(a, std::log10(low), std::log10(high))), low, high);
  };
  lr_ = next(action[0], lr_, options_.lr_min, options_.lr_max);
  if (options_.control_weight_decay) wd_ = next(action[1], wd_, options_.wd_min, options_.wd_max);
}

void ControlEnv::set_task_values() {
  hp_.set("learning_rate", lr_);
  hp_.set("weight_decay", wd_);
  task_->set_hyperparameters(hp_);
}

envs::StepResult ControlEnv::step(const double* action, double* obs) {
  if (!started_ || done_) throw std::logic_error("ControlEnv::step: reset the env first (the episode has ended)");
  const core::Clock::time_point start = core::Clock::now();
  envs::StepResult result;
  apply(action);
  set_task_values();
  const Instance& in = instance();
  const std::int64_t run = std::min(options_.control_interval, in.budget - task_->steps_done());
  sink_->clear();
  const core::Clock::time_point train_start = core::Clock::now();
  task_->train(run, *sink_);
  const double train_s = core::seconds_since(train_start);
  timing_.train_s += train_s;
  ++length_;
  if (task_->diverged()) {
    crashed_ = true;
    done_ = true;
    result.terminated = true;
    result.reward = -options_.crash_penalty;
    return_ += result.reward;
    write_obs(obs);
    timing_.overhead_s += core::seconds_since(start) - train_s;
    return result;
  }
  train_loss_ = sink_->mean();
  const double log_train = std::log(std::max(train_loss_, 1e-12));
  grad_norm_ = task_->trainer().gradient_norm();
  task_->trainer().flat_parameters(theta_);
  alignment_.observe(theta_);
  done_ = task_->steps_done() >= in.budget;
  const bool validate = done_ || (options_.val_interval > 0 && length_ % options_.val_interval == 0);
  double validation_s = 0;
  if (validate) {
    const core::Clock::time_point val_start = core::Clock::now();
    val_loss_ = task_->evaluate_split("val").loss;
    validation_s = core::seconds_since(val_start);
    timing_.validation_s += validation_s;
  }
  if (options_.reward == RewardKind::kDense) {
    result.reward = -(log_train - log_train_prev_);
  } else {
    result.reward = done_ ? -val_loss_ : 0.0;
  }
  log_train_prev_ = log_train;
  result.terminated = done_;
  return_ += result.reward;
  write_obs(obs);
  timing_.overhead_s += core::seconds_since(start) - train_s - validation_s;
  return result;
}

void ControlEnv::write_obs(double* obs) const {
  const double budget = static_cast<double>(instance().budget);
  obs[0] = feature(std::log(std::max(train_loss_, 1e-12)) - log_chance_);
  obs[1] = feature(stats_.count() > 0 ? stats_.mean() : 0.0);
  obs[2] = feature(std::sqrt(std::max(0.0, stats_.variance())));
  obs[3] = feature(std::log(std::max(val_loss_, 1e-12)) - log_chance_);
  obs[4] = feature(std::log10(std::max(grad_norm_, 1e-10)));
  obs[5] = feature(alignment_.alignment());
  obs[6] = feature(unit_log(lr_, options_.lr_min, options_.lr_max));
  obs[7] = feature(unit_log(wd_, options_.wd_min, options_.wd_max));
  obs[8] = feature(static_cast<double>(task_->steps_done()) / budget);
  obs[9] = crashed_ ? 1.0 : 0.0;
}

}  // namespace graybox::dac
