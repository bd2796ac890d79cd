#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "apps/commands.hpp"
#include "apps/run_dir.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "tasks/rl_task.hpp"

namespace fs = std::filesystem;

namespace graybox::apps {

int eval_command(const EvalOptions& options) {
  static const core::ConfigSchema schema = train_schema();
  const std::string config_path = options.run_dir + "/config.yaml";
  if (!fs::exists(config_path)) {
    throw core::UserError(options.run_dir + ": not a run directory (no config.yaml)");
  }
  if (options.episodes < 1) throw core::UserError("--episodes must be at least 1");
  const core::Config config = core::Config::load(config_path, schema);
  agents::set_torch_threads(static_cast<int>(config.get_int("torch_threads")));
  RunDir run(options.run_dir);
  const std::string checkpoint = run.latest_checkpoint();
  if (checkpoint.empty()) throw core::UserError(options.run_dir + ": no checkpoint to evaluate");

  tasks::RlTask task(tasks::rl_task_config(config));
  task.load(checkpoint);
  const core::EvalResult eval = task.evaluate(options.episodes);

  nlohmann::json summary = nlohmann::json::object();
  if (fs::exists(run.file("summary.json"))) {
    try {
      summary = nlohmann::json::parse(core::read_file(run.file("summary.json")));
    } catch (const std::exception&) {
      summary = nlohmann::json::object();
    }
  }
  summary["eval_return_mean"] = eval.mean;
  summary["eval_return_std"] = eval.std;
  summary["eval_episodes"] = options.episodes;
  core::write_file_atomic(run.file("summary.json"), summary.dump(2) + "\n");

  if (options.json) {
    nlohmann::json out;
    out["run_dir"] = options.run_dir;
    out["checkpoint"] = checkpoint;
    out["steps"] = task.steps_done();
    out["episodes"] = options.episodes;
    out["return_mean"] = eval.mean;
    out["return_std"] = eval.std;
    out["returns"] = eval.returns;
    out["lengths"] = eval.lengths;
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s at step %lld: return %.2f ± %.2f over %d episodes (deterministic)\n",
                config.get_string("env.id").c_str(), static_cast<long long>(task.steps_done()),
                eval.mean, eval.std, options.episodes);
  }
  return 0;
}

}  // namespace graybox::apps
