#include "dac/control_loop.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/timing.hpp"
#include "dac/baselines.hpp"

namespace graybox::dac {
namespace {

double clip(double x, double low, double high) { return std::min(high, std::max(low, x)); }
double feature(double x) { return std::isfinite(x) ? clip(x, -10.0, 10.0) : 0.0; }

// Where log10 value lies in [log10 low, log10 high], mapped to [−1, 1].
double unit_log(double value, double low, double high) {
  const double a = std::log10(low), b = std::log10(high);
  return b > a ? 2.0 * (std::log10(value) - a) / (b - a) - 1.0 : 0.0;
}

}  // namespace

// Takes each minibatch's training loss from SupervisedTask::train (the step's mean and the
// discounted statistics of the log losses) and passes every metric on.
class ControlLoop::Sink final : public core::MetricSink {
 public:
  Sink(DiscountedStats& stats, double log_chance) : stats_(stats), log_chance_(log_chance) {}
  void metric(std::int64_t step, const std::string& name, double value) override {
    if (also_) also_->metric(step, name, value);
    if (name != "train/loss") return;
    sum_ += value;
    ++count_;
    stats_.add(std::log(std::max(value, 1e-12)) - log_chance_);
  }
  void event(std::int64_t step, const std::string& kind, const std::string& detail) override {
    if (also_) also_->event(step, kind, detail);
  }
  void begin(core::MetricSink& also) { sum_ = 0, count_ = 0, also_ = &also; }
  double mean() const { return count_ > 0 ? sum_ / static_cast<double>(count_) : 0.0; }

 private:
  DiscountedStats& stats_;
  double log_chance_;
  core::MetricSink* also_ = nullptr;
  double sum_ = 0;
  std::int64_t count_ = 0;
};

void check_options(const ControlOptions& o) {
  const auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  if (o.control_interval < 1) fail("control_interval: must be >= 1");
  if (!(o.max_log10_change > 0 && o.max_log10_change <= 3)) fail("max_log10_change: must be in (0, 3]");
  if (!(o.max_log10_offset > 0 && o.max_log10_offset <= 6)) fail("max_log10_offset: must be in (0, 6]");
  if (!(o.lr_min > 0 && o.lr_min < o.lr_max && std::isfinite(o.lr_max))) fail("lr_min: need 0 < lr_min < lr_max");
  if (!(o.wd_min > 0 && o.wd_min < o.wd_max && std::isfinite(o.wd_max))) fail("wd_min: need 0 < wd_min < wd_max");
  if (o.val_interval < 0) fail("val_interval: must be >= 0");
  if (!(o.feature_decay >= 0 && o.feature_decay < 1)) fail("feature_decay: must be in [0, 1)");
  if (!(o.crash_penalty >= 0 && std::isfinite(o.crash_penalty))) fail("crash_penalty: must be >= 0");
  const auto& names = base_schedule_names();
  if (std::find(names.begin(), names.end(), o.base_schedule) == names.end()) {
    fail("base_schedule: unknown schedule '" + o.base_schedule + "'");
  }
  if (o.base_schedule != "constant" && o.action_mode != ActionMode::kRelative) {
    fail("base_schedule: a base schedule needs action_mode relative");
  }
}

void action_space(const ControlOptions& o, envs::EnvSpec& spec) {
  spec.act_dim = o.control_weight_decay ? 2 : 1;
  if (o.action_mode != ActionMode::kAbsolute) {
    spec.act_low.assign(static_cast<std::size_t>(spec.act_dim), -1.0);
    spec.act_high.assign(static_cast<std::size_t>(spec.act_dim), 1.0);
    return;
  }
  spec.act_low = {std::log10(o.lr_min)};
  spec.act_high = {std::log10(o.lr_max)};
  if (o.control_weight_decay) {
    spec.act_low.push_back(std::log10(o.wd_min));
    spec.act_high.push_back(std::log10(o.wd_max));
  }
}

ControlLoop::ControlLoop(tasks::SupervisedTask& task, const ControlOptions& options, std::int64_t budget)
    : task_(task), options_(options), budget_(budget), stats_(options.feature_decay) {
  check_options(options_);
  if (budget_ < 1) throw std::invalid_argument("a controlled run needs a budget of at least one minibatch");
  const auto& data = task_.trainer().data();
  const int classes = std::max({data.train.num_classes, data.val.num_classes, data.test.num_classes});
  log_chance_ = std::log(std::log(static_cast<double>(std::max(classes, 2))));
  sink_ = std::make_unique<Sink>(stats_, log_chance_);
  if (options_.base_schedule != "constant") base_ = optim::make_schedule(baseline_schedule(options_.base_schedule, budget_));
}

ControlLoop::~ControlLoop() = default;

void ControlLoop::start(double lr, double weight_decay) {
  stats_.clear();
  lr_ = clip(lr, options_.lr_min, options_.lr_max);
  wd_ = clip(weight_decay, options_.wd_min, options_.wd_max);
  start_lr_ = lr_;
  start_wd_ = wd_;
  set_task_values();
  task_.trainer().flat_parameters(theta_);
  alignment_.start(theta_);
  train_loss_ = std::exp(log_chance_);
  log_train_prev_ = log_chance_;
  val_loss_ = task_.evaluate_split("val").loss;
  grad_norm_ = 1.0;  // log10 = 0 until a gradient exists
  crashed_ = false;
  done_ = task_.steps_done() >= budget_;
  return_ = 0;
  length_ = 0;
  timing_ = ControlTiming{};
}

void ControlLoop::apply(const double* action, std::int64_t minibatches) {
  const double middle = static_cast<double>(task_.steps_done()) + 0.5 * static_cast<double>(minibatches);
  const double base_lr = base_ ? start_lr_ * base_->value(middle) : start_lr_;
  // A component that is not a number keeps its current value.
  const auto next = [&](double a, double value, double start, double low, double high) {
    if (!std::isfinite(a)) return value;
    switch (options_.action_mode) {
      case ActionMode::kMultiplicative:
        return clip(value * std::pow(10.0, clip(a, -1.0, 1.0) * options_.max_log10_change), low, high);
      case ActionMode::kRelative:
        return clip(start * std::pow(10.0, clip(a, -1.0, 1.0) * options_.max_log10_offset), low, high);
      case ActionMode::kAbsolute:
        break;
    }
    return clip(std::pow(10.0, clip(a, std::log10(low), std::log10(high))), low, high);
  };
  lr_ = next(action[0], lr_, base_lr, options_.lr_min, options_.lr_max);
  if (options_.control_weight_decay) wd_ = next(action[1], wd_, start_wd_, options_.wd_min, options_.wd_max);
}

void ControlLoop::set_task_values() {
  core::Hyperparameters hp = task_.hyperparameters();
  hp.set("learning_rate", lr_);
  hp.set("weight_decay", wd_);
  task_.set_hyperparameters(hp);
}

envs::StepResult ControlLoop::step(const double* action, core::MetricSink& also) {
  if (done_) throw std::logic_error("ControlLoop::step: the run has ended");
  const core::Clock::time_point start = core::Clock::now();
  envs::StepResult result;
  const std::int64_t run = std::min(options_.control_interval, budget_ - task_.steps_done());
  apply(action, run);
  set_task_values();
  sink_->begin(also);
  const core::Clock::time_point train_start = core::Clock::now();
  task_.train(run, *sink_);
  const double train_s = core::seconds_since(train_start);
  timing_.train_s += train_s;
  ++length_;
  if (task_.diverged()) {
    crashed_ = true;
    done_ = true;
    result.terminated = true;
    result.reward = -options_.crash_penalty;
    return_ += result.reward;
    timing_.overhead_s += core::seconds_since(start) - train_s;
    return result;
  }
  train_loss_ = sink_->mean();
  const double log_train = std::log(std::max(train_loss_, 1e-12));
  grad_norm_ = task_.trainer().gradient_norm();
  task_.trainer().flat_parameters(theta_);
  alignment_.observe(theta_);
  done_ = task_.steps_done() >= budget_;
  const bool validate = done_ || (options_.val_interval > 0 && length_ % options_.val_interval == 0);
  const double val_before = val_loss_;
  double validation_s = 0;
  if (validate) {
    const core::Clock::time_point val_start = core::Clock::now();
    val_loss_ = task_.evaluate_split("val").loss;
    validation_s = core::seconds_since(val_start);
    timing_.validation_s += validation_s;
  }
  switch (options_.reward) {
    case RewardKind::kDense:
      result.reward = -(log_train - log_train_prev_);
      break;
    case RewardKind::kSparse:
      result.reward = done_ ? -val_loss_ : 0.0;
      break;
    case RewardKind::kDenseVal:
      result.reward = validate ? -(std::log(std::max(val_loss_, 1e-12)) - std::log(std::max(val_before, 1e-12))) : 0.0;
      break;
  }
  log_train_prev_ = log_train;
  result.terminated = done_;
  return_ += result.reward;
  timing_.overhead_s += core::seconds_since(start) - train_s - validation_s;
  return result;
}

void ControlLoop::write_obs(double* obs) const {
  obs[0] = feature(std::log(std::max(train_loss_, 1e-12)) - log_chance_);
  obs[1] = feature(stats_.count() > 0 ? stats_.mean() : 0.0);
  obs[2] = feature(std::sqrt(std::max(0.0, stats_.variance())));
  obs[3] = feature(std::log(std::max(val_loss_, 1e-12)) - log_chance_);
  obs[4] = feature(std::log10(std::max(grad_norm_, 1e-10)));
  obs[5] = feature(alignment_.alignment());
  obs[6] = feature(unit_log(lr_, options_.lr_min, options_.lr_max));
  obs[7] = feature(unit_log(wd_, options_.wd_min, options_.wd_max));
  obs[8] = feature(static_cast<double>(task_.steps_done()) / static_cast<double>(budget_));
  obs[9] = crashed_ ? 1.0 : 0.0;
}

void ControlLoop::save(const std::string& dir) const {
  nlohmann::json s;
  s["format"] = 1;
  s["budget"] = budget_;
  s["lr"] = lr_;
  s["weight_decay"] = wd_;
  s["start_lr"] = start_lr_;
  s["start_weight_decay"] = start_wd_;
  s["train_loss"] = train_loss_;
  s["log_train_prev"] = log_train_prev_;
  s["val_loss"] = val_loss_;
  s["grad_norm"] = grad_norm_;
  s["crashed"] = crashed_;
  s["done"] = done_;
  s["return"] = return_;
  s["length"] = length_;
  s["stats"] = {stats_.count(), stats_.mean(), stats_.variance()};
  s["has_direction"] = alignment_.has_direction();
  s["alignment"] = alignment_.alignment();
  s["update_norm"] = alignment_.last_update_norm();
  s["steps"] = task_.steps_done();
  const std::vector<float>& direction = alignment_.direction();
  std::string bytes(direction.size() * sizeof(float), '\0');
  if (!bytes.empty()) std::memcpy(&bytes[0], direction.data(), bytes.size());
  core::write_file_atomic(dir + "/control_direction.bin", bytes);
  core::write_file_atomic(dir + "/control.json", s.dump(1));
}

void ControlLoop::load(const std::string& dir) {
  const std::string path = dir + "/control.json";
  try {
    const nlohmann::json s = nlohmann::json::parse(core::read_file(path));
    if (s.at("steps").get<std::int64_t>() != task_.steps_done() || s.at("budget").get<std::int64_t>() != budget_) {
      throw std::runtime_error("the controller's step or budget differs from the run's");
    }
    lr_ = s.at("lr").get<double>();
    wd_ = s.at("weight_decay").get<double>();
    start_lr_ = s.at("start_lr").get<double>();
    start_wd_ = s.at("start_weight_decay").get<double>();
    train_loss_ = s.at("train_loss").get<double>();
    log_train_prev_ = s.at("log_train_prev").get<double>();
    val_loss_ = s.at("val_loss").get<double>();
    grad_norm_ = s.at("grad_norm").get<double>();
    crashed_ = s.at("crashed").get<bool>();
    done_ = s.at("done").get<bool>();
    return_ = s.at("return").get<double>();
    length_ = s.at("length").get<std::int64_t>();
    const auto& st = s.at("stats");
    stats_.restore(st.at(0).get<std::size_t>(), st.at(1).get<double>(), st.at(2).get<double>());
    const std::string bytes = core::read_file(dir + "/control_direction.bin");
    task_.trainer().flat_parameters(theta_);
    if (bytes.size() != theta_.size() * sizeof(float)) throw std::runtime_error("control_direction.bin has the wrong size");
    std::vector<float> direction(theta_.size());
    if (!bytes.empty()) std::memcpy(direction.data(), bytes.data(), bytes.size());
    alignment_.restore(theta_, std::move(direction), s.at("has_direction").get<bool>(), s.at("alignment").get<double>(),
                       s.at("update_norm").get<double>());
    timing_ = ControlTiming{};
  } catch (const core::UserError&) {
    throw;
  } catch (const std::exception& e) {
    throw core::UserError(path + ": not a valid controller state (" + e.what() + ")");
  }
}

}  // namespace graybox::dac
