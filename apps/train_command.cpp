#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "apps/commands.hpp"
#include "apps/memory_check.hpp"
#include "apps/replay.hpp"
#include "apps/rl_trial_factory.hpp"
#include "apps/run_dir.hpp"
#include "apps/stop_signal.hpp"
#include "core/version.hpp"
#include "core/config.hpp"
#include "optim/trainer.hpp"
#include "core/files.hpp"
#include "core/progress.hpp"
#include "store/sqlite_store.hpp"
#include "core/store_sink.hpp"
#include "envs/env.hpp"
#include "pbt/lineage.hpp"
#include "tasks/rl_task.hpp"

namespace fs = std::filesystem;

namespace graybox::apps {

core::ConfigSchema train_schema() {
  core::ConfigSchema schema;
  tasks::add_rl_schema(schema);
  add_run_schema(schema, 100000, "env steps between checkpoints (0: only the final one)");
  schema.add_int("eval.episodes", 10, "deterministic evaluation episodes at the end of training", 0, 100000);
  schema.mark_paths({"env.model_path", "agent.lr_schedule.file", "replay.file"});
  return schema;
}

namespace {

// What a resumed run may change with --set besides PPO's hyperparameters: the rest of its plan.
const std::vector<std::string> kTrainPlanKeys = {"total_steps",     "eval.",          "checkpoint.",
                                                 "torch_threads",   "env.num_threads", "agent.update_threads",
                                                 "agent.lr_schedule.", "replay.file"};

// A task trains whole iterations (PPO: rollouts): a total below one trains nothing, another is
// rounded down.
void check_total_steps(const core::Config& config, const tasks::RlTaskConfig& task) {
  const std::int64_t rollout = tasks::iteration_env_steps(task);
  const std::string key = agents::iteration_key(task.agent.algo);
  const char* unit = task.agent.algo == "ppo" ? "rollout" : "iteration";
  if (task.total_steps < rollout) {
    config.fail("total_steps", std::to_string(task.total_steps) + " is less than one " + unit + " (" +
                                   std::to_string(rollout) + " env steps = env.num_envs " + std::to_string(task.num_envs) +
                                   " x " + key + " " + std::to_string(rollout / task.num_envs) +
                                   "), so nothing would be trained; raise it or lower " + key);
  }
  if (task.total_steps % rollout != 0) {
    std::fprintf(stderr, "note: total_steps %lld is not a multiple of the %s (%lld env steps); training %lld steps\n",
                 static_cast<long long>(task.total_steps), unit, static_cast<long long>(rollout),
                 static_cast<long long>(task.total_steps / rollout * rollout));
  }
}

}  // namespace

int train_command(const TrainOptions& options) {
  static const core::ConfigSchema schema = train_schema();
  core::Config config = load_run_config(options, schema, "train");
  const auto changed = check_resume_overrides(options, schema, kTrainPlanKeys, rl_hyperparameter_name);
  const tasks::RlTaskConfig task_config = tasks::rl_task_config(config);
  check_total_steps(config, task_config);
  {
    const envs::EnvSpec spec = envs::env_spec(task_config.env_id);
    double parameters = 0;
    for (const auto& mlp : agents::mlp_shapes(task_config.agent, spec.obs_dim, spec.act_dim)) {
      parameters += mlp_parameters(mlp.inputs, task_config.agent.hidden_sizes, mlp.outputs);
    }
    check_training_memory(parameters, config, "agent.hidden_sizes");
  }
  optim::set_torch_threads(static_cast<int>(config.get_int("torch_threads")));

  // Everything is checked (the config, the checkpoint's shape, the store) before anything is written.
  const std::unique_ptr<RunDir> run = open_run_dir(options, "train");
  const std::string& out = run->path();
  tasks::RlTask task(task_config);
  store::SqliteStore store(run->file("store.sqlite"));
  const std::string checkpoint = start_run(options, *run, config, changed, task_config.hyperparameters, task, store);
  if (checkpoint.empty() && !options.quiet) {
    std::fprintf(stderr, "training %s (%s) for %lld steps into %s\n", task_config.env_id.c_str(),
                 config.get_string("agent.algo").c_str(), static_cast<long long>(task_config.total_steps), out.c_str());
  }
  for (const auto& [name, value] : task.hyperparameters().values()) {
    store.add_hyperparameter(0, task.steps_done(), name, value);
  }
  store.commit();

  install_stop_handlers("graybox train --resume --out " + out);
  core::StoreSink sink(store);  // committed once per iteration
  core::ProgressLine progress(task_config.total_steps, !options.quiet);
  const std::int64_t start_step = task.steps_done();
  progress.start(start_step);
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t interval = config.get_int("checkpoint.interval");
  const int keep = static_cast<int>(config.get_int("checkpoint.keep"));
  std::int64_t next_checkpoint = interval > 0 ? (task.steps_done() / interval + 1) * interval : INT64_MAX;
  const auto save = [&](const std::string& dir) { task.save(dir); };

  // Replay: the recorded values at the current step, set before each iteration.
  const Replay replay(config, task);

  replay.apply(task, store);
  while (stop_signal() == 0 && task.iterate(sink)) {
    replay.apply(task, store);
    store.commit();
    if (task.steps_done() >= next_checkpoint && !task.diverged()) {
      run->write_checkpoint(task.steps_done(), save, keep);
      while (next_checkpoint <= task.steps_done()) next_checkpoint += interval;
    }
    progress.update(task.steps_done(), task.recent_return());
  }
  store.commit();
  // A diverged run keeps its last good checkpoint (what a resume or a rollback wants).
  if (!task.diverged()) run->write_checkpoint(task.steps_done(), save, keep);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  progress.finish(task.steps_done(), task.recent_return());
  store.export_csv(run->file("metrics.csv"));

  nlohmann::json summary = run->read_summary();
  const double previous_wall = summary.value("wall_seconds", 0.0);
  summary["env_id"] = task_config.env_id;
  summary["seed"] = task_config.seed;
  summary["total_steps"] = task.steps_done();
  summary["episodes"] = task.episodes_done();
  summary["unstable_episodes"] = task.unstable_episodes();
  const double final_return = task.recent_return();
  summary["final_return"] = std::isfinite(final_return) ? nlohmann::json(final_return) : nlohmann::json();
  summary["sps"] = wall > 0 ? static_cast<double>(task.steps_done() - start_step) / wall : 0.0;
  summary["wall_seconds"] = previous_wall + wall;

  if (stop_signal() != 0) {
    summary["status"] = "stopped";
    run->write_summary(summary);
    std::fprintf(stderr, "stopped by signal %d at step %lld; continue with: graybox train --resume --out %s\n",
                 stop_signal(), static_cast<long long>(task.steps_done()), out.c_str());
    return 130;
  }
  if (task.diverged()) {
    std::fprintf(stderr, "\nthe run diverged at step %lld (non-finite loss or parameters); the last good checkpoint is kept\n",
                 static_cast<long long>(task.steps_done()));
  }
  const int episodes = static_cast<int>(config.get_int("eval.episodes"));
  if (episodes > 0 && !task.diverged()) {
    const core::EvalResult eval = task.evaluate(episodes);
    summary["eval_return_mean"] = eval.mean;
    summary["eval_return_std"] = eval.std;
    summary["eval_episodes"] = episodes;
    store.set_metric(0, task.steps_done(), "eval/return_mean", eval.mean);
    store.set_metric(0, task.steps_done(), "eval/return_std", eval.std);
    store.commit();
    if (!options.quiet) {
      std::fprintf(stderr, "eval return %.1f ± %.1f over %d episodes\n", eval.mean, eval.std, episodes);
    }
  }
  summary["status"] = task.diverged() ? "diverged" : "finished";
  run->write_summary(summary);
  store.export_csv(run->file("metrics.csv"));
  if (!options.quiet || options.out.empty()) std::fprintf(stderr, "run directory: %s\n", out.c_str());
  return 0;
}

}  // namespace graybox::apps
