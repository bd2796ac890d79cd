// `graybox control train CONFIG.yaml`: meta-trains the learned lr/wd controller (dac::MetaTrainer:
// PPO on the control env over the training instances) into a run directory like `train`:
// config.yaml, store.sqlite (episode returns, final losses, PPO's losses, minibatches), 
// checkpoints every checkpoint.interval control steps, --resume, Ctrl-C, summary.json with the
// meta-training cost, and policy.pt (the policy and its observation normaliser) at every
// checkpoint and at the end.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/commands.hpp"
#include "apps/replay.hpp"
#include "apps/rl_trial_factory.hpp"
#include "apps/run_dir.hpp"
#include "apps/stop_signal.hpp"
#include "core/progress.hpp"
#include "store/sqlite_store.hpp"
#include "core/store_sink.hpp"
#include "dac/control_config.hpp"
#include "dac/meta_train_config.hpp"
#include "optim/trainer.hpp"

namespace graybox::apps {

core::ConfigSchema control_train_schema() {
  core::ConfigSchema schema;
  dac::add_meta_train_schema(schema);
  add_run_schema(schema, 2000, "control steps between checkpoints (0: only the final one)");
  schema.add_int("eval.episodes", 0, "deterministic episodes on the training instances at the end (0: none)", 0, 100000);
  add_control_eval_schema(schema);
  schema.mark_paths({"agent.lr_schedule.file", "replay.file"});
  return schema;
}

namespace {

const std::vector<std::string> kControlPlanKeys = {"total_steps", "eval.", "checkpoint.", "torch_threads",
                                                   "control.num_threads", "agent.lr_schedule.", "replay.file"};

}  // namespace

std::string control_policy_meta(const dac::MetaTrainer& trainer, const core::Config& config) {
  nlohmann::json meta;
  meta["kind"] = "graybox learned lr/wd controller";
  meta["observation"] = "dac::ControlLoop, 10 features (README: the control env)";
  meta["control"] = dac::control_options_to_json(trainer.config().control);
  meta["instances"] = config.get_string("control.instances");
  meta["control_steps"] = trainer.steps_done();
  meta["minibatches"] = trainer.minibatches_done();
  return meta.dump();
}

int control_train_command(const TrainOptions& options) {
  static const core::ConfigSchema schema = control_train_schema();
  core::Config config = load_run_config(options, schema, "control train");
  const auto changed = check_resume_overrides(options, schema, kControlPlanKeys, rl_hyperparameter_name);
  const dac::MetaTrainConfig meta_config = dac::meta_train_config(config);
  const std::int64_t rollout = meta_config.hyperparameters.get_int("num_steps") * meta_config.num_envs;
  if (meta_config.total_steps < rollout) {
    config.fail("total_steps", std::to_string(meta_config.total_steps) + " is less than one rollout (" +
                                   std::to_string(rollout) + " control steps = control.num_envs x agent.num_steps)");
  }
  optim::set_torch_threads(static_cast<int>(config.get_int("torch_threads")));

  const std::unique_ptr<RunDir> run = open_run_dir(options, "control train");
  const std::string& out = run->path();
  dac::MetaTrainer trainer(meta_config);
  store::SqliteStore store(run->file("store.sqlite"));
  const std::string checkpoint = start_run(options, *run, config, changed, meta_config.hyperparameters, trainer, store);
  if (checkpoint.empty() && !options.quiet) {
    std::fprintf(stderr, "meta-training a controller on %zu training instances, %d runs side by side, for %lld control steps into %s\n",
                 meta_config.instances.size(), meta_config.num_envs, static_cast<long long>(meta_config.total_steps),
                 out.c_str());
  }
  for (const auto& [name, value] : trainer.hyperparameters().values()) {
    store.add_hyperparameter(0, trainer.steps_done(), name, value);
  }
  store.commit();

  install_stop_handlers("graybox control train --resume --out " + out);
  core::StoreSink sink(store);
  core::ProgressLine progress(meta_config.total_steps, !options.quiet);
  const std::int64_t start_step = trainer.steps_done();
  const std::int64_t start_minibatches = trainer.minibatches_done();
  progress.start(start_step);
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t interval = config.get_int("checkpoint.interval");
  const int keep = static_cast<int>(config.get_int("checkpoint.keep"));
  std::int64_t next_checkpoint = interval > 0 ? (trainer.steps_done() / interval + 1) * interval : INT64_MAX;
  const auto save = [&](const std::string& dir) { trainer.save(dir); };
  const auto save_policy = [&] { trainer.policy(control_policy_meta(trainer, config)).save(run->file("policy.pt")); };

  const Replay replay(config, trainer);
  replay.apply(trainer, store);
  while (stop_signal() == 0 && trainer.iterate(sink)) {
    replay.apply(trainer, store);
    store.commit();
    if (trainer.steps_done() >= next_checkpoint && !trainer.diverged()) {
      run->write_checkpoint(trainer.steps_done(), save, keep);
      save_policy();
      while (next_checkpoint <= trainer.steps_done()) next_checkpoint += interval;
    }
    progress.update(trainer.steps_done(), trainer.recent_return());
  }
  store.commit();
  if (!trainer.diverged()) {
    run->write_checkpoint(trainer.steps_done(), save, keep);
    save_policy();
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  progress.finish(trainer.steps_done(), trainer.recent_return());
  store.export_csv(run->file("metrics.csv"));

  nlohmann::json summary = run->read_summary();
  summary["seed"] = meta_config.seed;
  summary["control_steps"] = trainer.steps_done();
  summary["episodes"] = trainer.episodes_done();
  summary["crashed_episodes"] = trainer.crashed_episodes();
  summary["minibatches"] = trainer.minibatches_done();
  const double recent = trainer.recent_return();
  summary["final_return"] = std::isfinite(recent) ? nlohmann::json(recent) : nlohmann::json();
  summary["wall_seconds"] = summary.value("wall_seconds", 0.0) + wall;
  summary["minibatches_per_second"] =
      wall > 0 ? static_cast<double>(trainer.minibatches_done() - start_minibatches) / wall : 0.0;
  summary["policy"] = run->file("policy.pt");
  if (stop_signal() != 0) {
    summary["status"] = "stopped";
    run->write_summary(summary);
    std::fprintf(stderr, "stopped by signal %d at step %lld; continue with: graybox control train --resume --out %s\n",
                 stop_signal(), static_cast<long long>(trainer.steps_done()), out.c_str());
    return 130;
  }
  if (trainer.diverged()) {
    std::fprintf(stderr, "\nmeta-training diverged at step %lld (non-finite PPO loss); the last good checkpoint and policy are kept\n",
                 static_cast<long long>(trainer.steps_done()));
  }
  const int episodes = static_cast<int>(config.get_int("eval.episodes"));
  if (episodes > 0 && !trainer.diverged()) {
    const core::EvalResult eval = trainer.evaluate(episodes);
    summary["eval_return_mean"] = eval.mean;
    summary["eval_return_std"] = eval.std;
    store.set_metric(0, trainer.steps_done(), "eval/return_mean", eval.mean);
    store.commit();
    if (!options.quiet) std::fprintf(stderr, "eval return %.3f ± %.3f over %d episodes\n", eval.mean, eval.std, episodes);
  }
  summary["status"] = trainer.diverged() ? "diverged" : "finished";
  run->write_summary(summary);
  store.export_csv(run->file("metrics.csv"));
  if (!options.quiet) {
    std::fprintf(stderr, "meta-training cost: %lld minibatches in %lld episodes, %.1f s; policy: %s\n",
                 static_cast<long long>(trainer.minibatches_done()), static_cast<long long>(trainer.episodes_done()),
                 summary["wall_seconds"].get<double>(), run->file("policy.pt").c_str());
  }
  if (!options.quiet || options.out.empty()) std::fprintf(stderr, "run directory: %s\n", out.c_str());
  return 0;
}

}  // namespace graybox::apps
