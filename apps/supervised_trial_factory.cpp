#include "apps/supervised_trial_factory.hpp"

#include <map>

#include "apps/commands.hpp"
#include "core/config.hpp"
#include "tasks/supervised_task.hpp"

namespace graybox::apps {
namespace {

class SupervisedTrialFactory final : public core::TrialFactory {
 public:
  explicit SupervisedTrialFactory(std::string base) : schema_(fit_schema()), base_(std::move(base)) {
    // Load the data once to learn the epoch length (and to fail early on a bad base config).
    tasks::SupervisedTask probe(tasks::supervised_task_config(core::Config::load(base_, schema_)));
    steps_per_epoch_ = probe.steps_per_epoch();
  }

  const core::ConfigSchema& schema() const override { return schema_; }

  core::Config config(const std::vector<std::string>& overrides, std::uint64_t seed, std::int64_t max_units) const {
    std::vector<std::string> all = overrides;
    all.push_back("seed=" + std::to_string(seed % 1000000007ULL));
    all.push_back("train.epochs=" + std::to_string(max_units));
    return core::Config::load(base_, schema_, all);
  }

  std::unique_ptr<core::Trainable> make(const std::vector<std::string>& overrides, std::uint64_t seed,
                                        std::int64_t max_units) const override {
    return std::make_unique<tasks::SupervisedTask>(tasks::supervised_task_config(config(overrides, seed, max_units)));
  }
  std::int64_t unit() const override { return steps_per_epoch_; }
  double score(core::Trainable& trainable) const override {
    return static_cast<tasks::SupervisedTask&>(trainable).evaluate_split("val").accuracy;
  }
  std::string metric() const override { return "val_accuracy"; }
  // The optimizer's controllable values, as the supervised task names its hyperparameters;
  // other keys (model shape, batch size) are fixed for a trial's life ("").
  std::string hyperparameter_name(const std::string& key) const override {
    static const std::map<std::string, std::string> names = {{"optimizer.lr", "learning_rate"},
                                                             {"optimizer.weight_decay", "weight_decay"},
                                                             {"optimizer.momentum", "momentum"},
                                                             {"optimizer.beta1", "beta1"},
                                                             {"optimizer.beta2", "beta2"}};
    const auto it = names.find(key);
    return it == names.end() ? std::string() : it->second;
  }
  bool maximize() const override { return true; }
  std::string config_yaml(const std::vector<std::string>& overrides, std::uint64_t seed,
                          std::int64_t max_units) const override {
    return "# the best trial of a graybox tune experiment; run it with: graybox fit best.yaml\n" +
           config(overrides, seed, max_units).to_yaml();
  }

 private:
  core::ConfigSchema schema_;
  std::string base_;
  std::int64_t steps_per_epoch_ = 1;
};

}  // namespace

std::unique_ptr<core::TrialFactory> make_supervised_trial_factory(const std::string& base_config) {
  return std::make_unique<SupervisedTrialFactory>(base_config);
}

}  // namespace graybox::apps
