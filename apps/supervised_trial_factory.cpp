#include "apps/supervised_trial_factory.hpp"

#include <map>

#include "apps/commands.hpp"
#include "core/config.hpp"
#include "tasks/supervised_task.hpp"

namespace graybox::apps {
namespace {

class SupervisedTrialFactory final : public core::TrialFactory {
 public:
  SupervisedTrialFactory(std::string base, std::int64_t minibatches_per_unit)
      : schema_(fit_schema()), base_(std::move(base)) {
    // Load the data once to learn the epoch length (and to fail early on a bad base config).
    tasks::SupervisedTask probe(tasks::supervised_task_config(core::Config::load(base_, schema_)));
    train_size_ = probe.trainer().train_size();
    // Every trial scores on the base config's split, whatever its own seed.
    const core::Config base_config = core::Config::load(base_, schema_);
    const long long split = base_config.get_int("data.split_seed");
    split_seed_ = "data.split_seed=" + std::to_string(split >= 0 ? split : base_config.get_int("seed"));
    unit_ = minibatches_per_unit > 0 ? minibatches_per_unit : probe.steps_per_epoch();
  }

  const core::ConfigSchema& schema() const override { return schema_; }

  core::Config config(const std::vector<std::string>& overrides, std::uint64_t seed, std::int64_t max_units) const {
    std::vector<std::string> all = {split_seed_};
    all.insert(all.end(), overrides.begin(), overrides.end());
    all.push_back("seed=" + std::to_string(seed % 1000000007ULL));
    // Enough whole epochs, at this trial's batch size, for the largest budget (the runner stops
    // at exactly max_units units).
    const std::int64_t batch = core::Config::load(base_, schema_, all).get_int("train.batch_size");
    const std::int64_t per_epoch = (train_size_ + batch - 1) / batch;
    all.push_back("train.epochs=" + std::to_string((max_units * unit_ + per_epoch - 1) / per_epoch));
    return core::Config::load(base_, schema_, all);
  }

  std::unique_ptr<core::Trainable> make(const std::vector<std::string>& overrides, std::uint64_t seed,
                                        std::int64_t max_units) const override {
    return std::make_unique<tasks::SupervisedTask>(tasks::supervised_task_config(config(overrides, seed, max_units)));
  }
  std::int64_t unit() const override { return unit_; }
  double score(core::Trainable& trainable) const override {
    return static_cast<tasks::SupervisedTask&>(trainable).evaluate_split("val").accuracy;
  }
  std::string metric() const override { return "val_accuracy"; }
  std::string hyperparameter_name(const std::string& key) const override { return supervised_hyperparameter_name(key); }
  bool maximize() const override { return true; }
  std::string config_yaml(const std::vector<std::string>& overrides, std::uint64_t seed,
                          std::int64_t max_units) const override {
    return "# the best trial of a graybox tune experiment; run it with: graybox fit best.yaml\n" +
           config(overrides, seed, max_units).to_yaml();
  }

 private:
  core::ConfigSchema schema_;
  std::string base_;
  std::string split_seed_;        // the override that gives every trial the base config's split
  std::int64_t train_size_ = 1;  // training examples
  std::int64_t unit_ = 1;        // minibatches per budget unit
};

}  // namespace

// The optimizer's controllable values, as the supervised task names its hyperparameters.
std::string supervised_hyperparameter_name(const std::string& key) {
  static const std::map<std::string, std::string> names = {{"optimizer.lr", "learning_rate"},
                                                           {"optimizer.weight_decay", "weight_decay"},
                                                           {"optimizer.momentum", "momentum"},
                                                           {"optimizer.beta1", "beta1"},
                                                           {"optimizer.beta2", "beta2"}};
  const auto it = names.find(key);
  return it == names.end() ? std::string() : it->second;
}

std::unique_ptr<core::TrialFactory> make_supervised_trial_factory(const std::string& base_config,
                                                                  std::int64_t minibatches_per_unit) {
  return std::make_unique<SupervisedTrialFactory>(base_config, minibatches_per_unit);
}

}  // namespace graybox::apps
