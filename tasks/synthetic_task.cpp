#include "tasks/synthetic_task.hpp"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/rng.hpp"

namespace graybox::tasks {

double branin(double x1, double x2) {
  const double b = 5.1 / (4.0 * M_PI * M_PI), c = 5.0 / M_PI, t = 1.0 / (8.0 * M_PI);
  const double u = x2 - b * x1 * x1 + c * x1 - 6.0;
  return u * u + 10.0 * (1.0 - t) * std::cos(x1) + 10.0;
}

double hartmann6(const double* x) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double a[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double p[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                 {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                 {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                 {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double sum = 0.0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0.0;
    for (int j = 0; j < 6; ++j) inner += a[i][j] * (x[j] - p[i][j]) * (x[j] - p[i][j]);
    sum += alpha[i] * std::exp(-inner);
  }
  return -sum;
}

namespace {

struct Objective {
  int dims;
  bool multi_fidelity;
  double bias, noise;
  double step_seconds = 0.0;  // wall time each step costs (branin_timed)
  double value(const std::vector<double>& x) const {
    return dims == 2 ? branin(x[0], x[1]) : hartmann6(x.data());
  }
  double distortion(const std::vector<double>& x) const {
    if (dims == 2) return (x[0] + 5.0) / 15.0;
    double s = 0.0;
    for (const double v : x) s += (v - 0.5) * (v - 0.5);
    return s;
  }
};

class SyntheticTrainable final : public core::Trainable {
 public:
  SyntheticTrainable(const Objective& objective, std::vector<double> x, std::uint64_t seed, std::int64_t max_steps)
      : objective_(objective), x_(std::move(x)), seed_(seed), max_steps_(max_steps) {
    for (std::size_t i = 0; i < x_.size(); ++i) hp_.set("x" + std::to_string(i + 1), x_[i]);
  }

  const core::Hyperparameters& hyperparameters() const override { return hp_; }
  void set_hyperparameters(const core::Hyperparameters& hp) override {
    hp_ = hp;
    for (std::size_t i = 0; i < x_.size(); ++i) x_[i] = hp.get("x" + std::to_string(i + 1));
  }
  std::int64_t steps_done() const override { return steps_; }
  bool finished() const override { return steps_ >= max_steps_; }
  void train(std::int64_t budget, core::MetricSink& sink) override {
    const std::int64_t before = steps_;
    steps_ = std::min(max_steps_, steps_ + std::max<std::int64_t>(budget, 0));
    if (objective_.step_seconds > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(objective_.step_seconds * static_cast<double>(steps_ - before)));
    }
    sink.metric(steps_, "objective", value());
  }
  core::EvalResult evaluate(int) override {
    core::EvalResult r;
    r.returns = {value()};
    r.mean = r.returns[0];
    return r;
  }
  void save(const std::string& dir) const override {
    nlohmann::json j{{"steps", steps_}, {"x", x_}};
    core::write_file_atomic(dir + "/state.json", j.dump());
  }
  void load(const std::string& dir) override {
    try {
      const auto j = nlohmann::json::parse(core::read_file(dir + "/state.json"));
      steps_ = j.at("steps").get<std::int64_t>();
      x_ = j.at("x").get<std::vector<double>>();
    } catch (const nlohmann::json::exception& e) {
      throw core::UserError(dir + "/state.json: not a valid checkpoint (" + e.what() + ")");
    }
  }

  void copy_state_from(const core::Trainable& other) override {
    const auto* o = dynamic_cast<const SyntheticTrainable*>(&other);
    if (!o) throw std::invalid_argument("copy_state_from: the other trainable is not a synthetic objective");
    x_ = o->x_;
    steps_ = o->steps_;
    hp_ = o->hp_;
  }

  // The only random draws (the multi-fidelity noise) are keyed by this trial's own seed and step,
  // which a copy does not take: nothing to reseed.
  void reseed(std::uint64_t) override {}

  double value() const {
    const double f = objective_.value(x_);
    if (!objective_.multi_fidelity) return f;
    const double z = max_steps_ > 0 ? static_cast<double>(steps_) / static_cast<double>(max_steps_) : 1.0;
    core::Rng rng(core::derive_seed(seed_, core::Stream::kEval, static_cast<std::uint64_t>(steps_)));
    return f + (1.0 - z) * (objective_.bias * objective_.distortion(x_) + objective_.noise * rng.normal());
  }

 private:
  Objective objective_;
  std::vector<double> x_;
  std::uint64_t seed_;
  std::int64_t max_steps_;
  std::int64_t steps_ = 0;
  core::Hyperparameters hp_;
};

class SyntheticFactory final : public core::TrialFactory {
 public:
  explicit SyntheticFactory(const std::string& task) : name_(task) {
    const bool branin_task = task.rfind("branin", 0) == 0;
    objective_ = branin_task ? Objective{2, false, 10.0, 5.0} : Objective{6, false, 1.0, 0.5};
    objective_.multi_fidelity = task.size() > 3 && task.compare(task.size() - 3, 3, "_mf") == 0;
    if (task == "branin_timed") objective_.step_seconds = 0.02;
    for (int i = 0; i < objective_.dims; ++i) {
      const std::string key = "x" + std::to_string(i + 1);
      if (branin_task) {
        schema_.add_float(key, i == 0 ? 2.5 : 7.5, i == 0 ? "Branin x1 in [-5, 10]" : "Branin x2 in [0, 15]",
                          i == 0 ? -5.0 : 0.0, i == 0 ? 10.0 : 15.0);
      } else {
        schema_.add_float(key, 0.5, "Hartmann-6 coordinate in [0, 1]", 0.0, 1.0);
      }
    }
  }

  const core::ConfigSchema& schema() const override { return schema_; }

  std::unique_ptr<core::Trainable> make(const std::vector<std::string>& overrides, std::uint64_t seed,
                                        std::int64_t max_units) const override {
    const core::Config config = core::Config::parse("", name_, schema_, overrides);
    std::vector<double> x;
    for (int i = 0; i < objective_.dims; ++i) x.push_back(config.get_float("x" + std::to_string(i + 1)));
    return std::make_unique<SyntheticTrainable>(objective_, x, seed, max_units);
  }
  std::int64_t unit() const override { return 1; }
  double score(core::Trainable& trainable) const override {
    return static_cast<SyntheticTrainable&>(trainable).value();
  }
  std::string metric() const override { return "objective"; }
  bool maximize() const override { return false; }
  std::string config_yaml(const std::vector<std::string>& overrides, std::uint64_t, std::int64_t) const override {
    const core::Config config = core::Config::parse("", name_, schema_, overrides);
    return "# " + name_ + ": the best point found\n" + config.to_yaml();
  }

 private:
  std::string name_;
  Objective objective_{};
  core::ConfigSchema schema_;
};

}  // namespace

bool is_synthetic_task(const std::string& task) {
  return task == "branin" || task == "hartmann6" || task == "branin_mf" || task == "hartmann6_mf" || task == "branin_timed";
}

std::unique_ptr<core::TrialFactory> make_synthetic_factory(const std::string& task) {
  if (!is_synthetic_task(task)) throw std::invalid_argument("not a synthetic task: " + task);
  return std::make_unique<SyntheticFactory>(task);
}

}  // namespace graybox::tasks
