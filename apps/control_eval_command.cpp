// `graybox control eval CONFIG.yaml`: the meta-trained policy (eval.policy) against the
// baselines on the config's held-out test instances, eval.seeds seeds each, after tuning each
// baseline's base lr and wd on the training instances (eval.tune_trials proposals of
// eval.tune_searcher per baseline and optimizer). Prints the per-instance table, each method's
// mean with its 95 % interval and average rank, the meta-training cost (from the policy and
// the summary.json beside it) apart from the evaluation's; writes a CSV of every run.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "apps/commands.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "dac/control_config.hpp"
#include "dac/control_eval.hpp"
#include "dac/meta_train_config.hpp"
#include "dac/policy_controller.hpp"
#include "optim/trainer.hpp"

namespace fs = std::filesystem;

namespace graybox::apps {

void add_control_eval_schema(core::ConfigSchema& s) {
  s.add_string("eval.policy", "", "control eval: the policy.pt to evaluate (graybox control train writes RUN/policy.pt)");
  s.add_int("eval.seeds", 3, "control eval: run seeds per test instance (the same for every method)", 1, 1000);
  s.add_int("eval.tune_trials", 12, "control eval: proposals per baseline and optimizer when tuning lr/wd factors on the training instances", 1, 100000);
  s.add_string("eval.tune_searcher", "tpe", "control eval: the searcher that tunes the baselines", {"random", "tpe", "gp"});
  s.add_string("eval.csv", "", "control eval: the CSV of every run (default: control_eval.csv beside the policy)");
  s.add_string("eval.baselines", "",
               "control eval: a JSON file that keeps the baselines' tuning and test runs for the next eval of another "
               "policy on the same instances (written as the eval goes, so a killed eval continues from it; read if its "
               "inputs match, exit 2 if not; \"\": none)");
  s.mark_paths({"eval.policy", "eval.csv", "eval.baselines"});
}

int control_eval_command(const TrainOptions& options) {
  static const core::ConfigSchema schema = control_train_schema();
  if (options.config_path.empty()) throw core::UserError("control eval: a CONFIG file is required");
  const core::Config config = core::Config::load(options.config_path, schema, options.overrides);
  const std::string& policy_path = config.get_string("eval.policy");
  if (policy_path.empty()) config.fail("eval.policy", "set it to a policy.pt (graybox control train writes RUN/policy.pt)");
  dac::LoadedPolicy loaded;
  try {
    loaded = dac::load_control_policy(policy_path);
  } catch (const core::UserError& e) {
    config.fail("eval.policy", e.what());
  }
  const dac::InstanceSet set = dac::configured_instance_set(config);
  dac::ControlEvalOptions o;
  o.train = set.train;
  o.test = set.test;
  o.seeds = static_cast<int>(config.get_int("eval.seeds"));
  o.tune.trials = static_cast<int>(config.get_int("eval.tune_trials"));
  o.tune.searcher.kind = config.get_string("eval.tune_searcher");
  o.seed = static_cast<std::uint64_t>(config.get_int("seed"));
  o.num_threads = static_cast<int>(config.get_int("control.num_threads"));
  o.baselines_file = config.get_string("eval.baselines");
  o.random_control = dac::control_options(config);
  const std::string csv = config.get_string("eval.csv").empty()
                              ? (fs::path(policy_path).parent_path() / "control_eval.csv").string()
                              : config.get_string("eval.csv");
  optim::set_torch_threads(1);
  if (!options.quiet) {
    std::fprintf(stderr, "evaluating %s and %zu baselines on %zu test instances x %d seeds (tuning on %zu training instances, %d trials each)\n",
                 policy_path.c_str(), dac::baseline_names().size(), o.test.size(), o.seeds, o.train.size(), o.tune.trials);
  }
  const dac::ControlEvalReport report = dac::run_control_eval(o, *loaded.policy, loaded.options);
  std::string text = dac::format_control_eval(report, o.test);

  // Meta-training cost: what the policy says, and the wall time of its run if beside it.
  const nlohmann::json meta = nlohmann::json::parse(loaded.policy->meta());
  char line[256];
  std::snprintf(line, sizeof(line), "meta-training cost: %lld minibatches in %lld control steps",
                static_cast<long long>(meta.value("minibatches", 0LL)), static_cast<long long>(meta.value("control_steps", 0LL)));
  text += line;
  const std::string summary_path = (fs::path(policy_path).parent_path() / "summary.json").string();
  if (fs::exists(summary_path)) {
    try {
      const auto summary = nlohmann::json::parse(core::read_file(summary_path));
      std::snprintf(line, sizeof(line), ", %.1f s wall (%s)", summary.value("wall_seconds", 0.0), summary_path.c_str());
      text += line;
    } catch (const std::exception&) {
      text += " (summary.json beside the policy is unreadable)";
    }
  }
  text += "\n";
  std::fputs(text.c_str(), stdout);
  dac::write_control_eval_csv(report, csv);
  std::fprintf(stderr, "runs: %s\n", csv.c_str());
  return 0;
}

}  // namespace graybox::apps
