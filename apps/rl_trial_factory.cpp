#include "apps/rl_trial_factory.hpp"

#include <algorithm>
#include <cmath>

#include "agents/agent_config.hpp"
#include "apps/commands.hpp"
#include "core/config.hpp"
#include "tasks/rl_task.hpp"

namespace graybox::apps {
namespace {

class RlTrialFactory final : public core::TrialFactory {
 public:
  RlTrialFactory(std::string base, std::int64_t unit, std::string metric, int eval_episodes)
      : schema_(train_schema()), base_(std::move(base)), unit_(unit), metric_(std::move(metric)),
        eval_episodes_(eval_episodes) {
    // tune.budget_unit 0: one rollout of the base config, so that a unit is one whole update.
    if (unit_ <= 0) {
      const core::Config base_config = core::Config::load(base_, schema_);
      unit_ = base_config.get_int(agents::iteration_key(base_config.get_string("agent.algo"))) *
              base_config.get_int("env.num_envs");
    }
    // Fail early, naming the base config's problems.
    agents::agent_hyperparameters(core::Config::load(base_, schema_));
  }

  const core::ConfigSchema& schema() const override { return schema_; }

  core::Config config(const std::vector<std::string>& overrides, std::uint64_t seed, std::int64_t max_units) const {
    std::vector<std::string> all = overrides;
    all.push_back("seed=" + std::to_string(seed % 1000000007ULL));
    all.push_back("total_steps=" + std::to_string(max_units * unit_));
    return core::Config::load(base_, schema_, all);
  }

  std::unique_ptr<core::Trainable> make(const std::vector<std::string>& overrides, std::uint64_t seed,
                                        std::int64_t max_units) const override {
    return std::make_unique<tasks::RlTask>(tasks::rl_task_config(config(overrides, seed, max_units)));
  }
  std::int64_t unit() const override { return unit_; }
  double score(core::Trainable& trainable) const override {
    auto& task = static_cast<tasks::RlTask&>(trainable);
    if (task.diverged()) return std::nan("");  // a diverged trial: rolled back (PBT) or the worst (tuning)
    if (metric_ == "eval_return") return task.evaluate(eval_episodes_).mean;
    const double r = task.recent_return();
    if (!std::isfinite(r)) {
      throw core::NoScore("no training episode finished in " + std::to_string(task.steps_done()) +
                          " env steps (a larger tune.min_budget or tune.budget_unit gives the trial time for one)");
    }
    return r;
  }
  std::string hyperparameter_name(const std::string& key) const override { return rl_hyperparameter_name(key); }
  std::string metric() const override { return metric_; }
  bool maximize() const override { return true; }
  std::string config_yaml(const std::vector<std::string>& overrides, std::uint64_t seed,
                          std::int64_t max_units) const override {
    return "# the best trial of a graybox tune experiment; run it with: graybox train best.yaml\n" +
           config(overrides, seed, max_units).to_yaml();
  }

 private:
  core::ConfigSchema schema_;
  std::string base_;
  std::int64_t unit_;
  std::string metric_;
  int eval_episodes_;
};

}  // namespace

// agent.X reaches the task as X when X is one of an algorithm's per-update hyperparameters.
std::string rl_hyperparameter_name(const std::string& key) {
  if (key.rfind("agent.", 0) != 0) return "";
  const std::string name = key.substr(6);
  return agents::is_hyperparameter(name) ? name : "";
}

std::unique_ptr<core::TrialFactory> make_rl_trial_factory(const std::string& base_config, std::int64_t unit,
                                                          const std::string& metric, int eval_episodes) {
  return std::make_unique<RlTrialFactory>(base_config, unit, metric, eval_episodes);
}

}  // namespace graybox::apps
