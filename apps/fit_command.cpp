// `graybox fit CONFIG.yaml`: trains a supervised task into a run directory, like `train`:
// resolved config, run store (train/val loss and accuracy, learning rate and weight decay per
// step), checkpoints each epoch, --resume, and summary.json with the test figures. A
// non-finite loss ends the run with status "diverged" (recorded, not a crash). With
// controller.policy a meta-trained policy sets lr and weight decay every control interval;
// its trajectory is written as recorded schedules (schedules/*.yaml) that replay the run.
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "apps/commands.hpp"
#include "apps/memory_check.hpp"
#include "apps/replay.hpp"
#include "apps/run_dir.hpp"
#include "apps/stop_signal.hpp"
#include "apps/supervised_trial_factory.hpp"
#include "core/config.hpp"
#include "core/files.hpp"
#include "core/progress.hpp"
#include "store/sqlite_store.hpp"
#include "core/store_sink.hpp"
#include "core/version.hpp"
#include "dac/policy_controller.hpp"
#include "optim/schedule.hpp"
#include "tasks/supervised_task.hpp"

namespace fs = std::filesystem;

namespace graybox::apps {
namespace {

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

}  // namespace

core::ConfigSchema fit_schema() {
  core::ConfigSchema schema;
  tasks::add_supervised_schema(schema);
  add_run_schema(schema, 0, "minibatches between checkpoints (0: each epoch)");
  schema.add_string("controller.policy", "",
                    "a policy.pt of graybox control train: it sets lr and weight decay every control interval "
                    "(with the options it was trained with); optimizer.lr and weight_decay are its start");
  schema.mark_paths({"data.dir", "schedule.file", "replay.file", "controller.policy"});
  return schema;
}

namespace {

// What a resumed run may change with --set besides the optimizer's hyperparameters.
const std::vector<std::string> kFitPlanKeys = {"train.epochs", "train.eval_interval", "checkpoint.", "torch_threads",
                                               "replay.file"};

// The task (its data and model); a data set the model cannot take is an error naming the key.
std::unique_ptr<tasks::SupervisedTask> make_task(const core::Config& config, const tasks::SupervisedTaskConfig& task_config) {
  check_training_memory(mlp_parameters(1, task_config.trainer.model.widths, 2), config, "model.widths");
  try {
    return std::make_unique<tasks::SupervisedTask>(task_config);
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    config.fail(message.find("cnn") != std::string::npos ? "model.type" : "data.name",
                message + " (data.name " + task_config.data.name + ", model.type " + task_config.trainer.model.type + ")");
  }
}

}  // namespace

// The schedule multiplies whatever learning rate is set, so with a policy it must be the identity:
// constant 1 without a warm-up in front (a warm-up would scale the policy's first choices down).
void check_policy_can_steer(const core::Config& config) {
  if (config.get_string("schedule.type") != "constant") {
    config.fail("schedule.type", "controller.policy sets the learning rate; the schedule must be constant with value 1");
  }
  if (config.get_float("schedule.value") != 1.0) {
    config.fail("schedule.value", "controller.policy sets the learning rate; the constant schedule's value must be 1");
  }
  if (config.get_float("schedule.warmup") != 0.0) {
    config.fail("schedule.warmup", "controller.policy sets the learning rate; a warm-up would scale it (set schedule.warmup=0)");
  }
  if (!config.get_string("replay.file").empty()) {
    config.fail("replay.file", "controller.policy sets the learning rate and weight decay; a replay would fight it");
  }
}

namespace {

// The policy of controller.policy steering the task, or null. A missing or broken file, or a
// schedule or replay that would fight it over the learning rate, is an error naming the key.
std::unique_ptr<dac::PolicyController> make_controller(const core::Config& config, tasks::SupervisedTask& task) {
  const std::string& path = config.get_string("controller.policy");
  if (path.empty()) return nullptr;
  dac::LoadedPolicy policy;
  try {
    policy = dac::load_control_policy(path);
  } catch (const core::UserError& e) {
    config.fail("controller.policy", e.what());
  }
  check_policy_can_steer(config);
  return std::make_unique<dac::PolicyController>(std::move(policy), task, task.total_steps());
}

// The controller's trajectory (its control/learning_rate and control/weight_decay records, at
// the minibatch each control step began) as recorded schedules under `dir`:
// learning_rate.yaml and weight_decay.yaml (schedule type: recorded, unit steps) and
// controller.yaml with both (replay.file).
void write_controller_schedules(const core::Store& store, const std::string& dir) {
  fs::create_directories(dir);
  pbt::HyperparameterSchedules both;
  for (const char* name : {"learning_rate", "weight_decay"}) {
    optim::Recorded recorded;
    recorded.name = name;
    recorded.unit = "steps";
    for (const auto& row : store.metrics(0, std::string("control/") + name)) {
      if (recorded.points.empty() || recorded.points.back().second != row.value) {
        recorded.points.emplace_back(static_cast<double>(row.step), row.value);
      }
    }
    optim::write_recorded(dir + "/" + name + ".yaml", recorded);
    both.points[name] = recorded.points;
  }
  pbt::write_schedules(dir + "/controller.yaml", both);
}

}  // namespace

int fit_command(const TrainOptions& options) {
  static const core::ConfigSchema schema = fit_schema();
  core::Config config = load_run_config(options, schema, "fit");
  const auto changed = check_resume_overrides(options, schema, kFitPlanKeys, supervised_hyperparameter_name);
  const tasks::SupervisedTaskConfig task_config = tasks::supervised_task_config(config);
  optim::set_torch_threads(static_cast<int>(config.get_int("torch_threads")));
  // Loads the data: a bad file fails before the run directory is touched.
  const std::unique_ptr<tasks::SupervisedTask> task_owner = make_task(config, task_config);
  tasks::SupervisedTask& task = *task_owner;

  std::unique_ptr<dac::PolicyController> controller = make_controller(config, task);

  // Everything is checked (the config, the checkpoint's shape, the store) before anything is written.
  const std::unique_ptr<RunDir> run = open_run_dir(options, "fit");
  const std::string& out = run->path();
  store::SqliteStore store(run->file("store.sqlite"));
  const std::string checkpoint = start_run(options, *run, config, changed, task_config.hyperparameters, task, store);
  if (checkpoint.empty() && !options.quiet) {
    std::fprintf(stderr, "fitting a %s on %s (%lld training examples) for %lld epochs into %s\n",
                 task_config.trainer.model.type.c_str(), task_config.data.name.c_str(),
                 static_cast<long long>(task.trainer().train_size()), static_cast<long long>(task_config.epochs), out.c_str());
  }
  if (controller && checkpoint.empty() && !options.quiet) {
    std::fprintf(stderr, "lr and weight decay set by %s every %lld minibatches\n",
                 config.get_string("controller.policy").c_str(), static_cast<long long>(controller->options().control_interval));
  }
  if (controller) {
    if (checkpoint.empty()) {
      controller->start(task.hyperparameters().get("learning_rate"), task.hyperparameters().get("weight_decay"));
    } else {
      controller->loop().load(checkpoint);
    }
  }
  for (const auto& [name, value] : task.hyperparameters().values()) store.add_hyperparameter(0, task.steps_done(), name, value);
  store.commit();

  install_stop_handlers("graybox fit --resume --out " + out);
  core::StoreSink sink(store);
  core::ProgressLine progress(task.total_steps(), !options.quiet, "val accuracy", 4);
  progress.start(task.steps_done());
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t interval = config.get_int("checkpoint.interval") > 0 ? config.get_int("checkpoint.interval") : task.steps_per_epoch();
  const int keep = static_cast<int>(config.get_int("checkpoint.keep"));
  const auto save = [&](const std::string& dir) { task.save(dir); };
  const Replay replay(config, task);
  if (controller) {
    // Control steps: the policy acts, then K minibatches; checkpoints after the step that
    // reaches each boundary (a step is never split), the controller's state beside the task's.
    const auto save_both = [&](const std::string& dir) {
      task.save(dir);
      controller->loop().save(dir);
    };
    std::int64_t next_checkpoint = (task.steps_done() / interval + 1) * interval;
    while (stop_signal() == 0 && !controller->done()) {
      const std::int64_t at = task.steps_done();
      controller->step(sink);
      store.add_metric(0, at, "control/learning_rate", controller->loop().lr());
      store.add_metric(0, at, "control/weight_decay", controller->loop().weight_decay());
      store.commit();
      if (task.steps_done() >= next_checkpoint || controller->done()) {
        run->write_checkpoint(task.steps_done(), save_both, keep);
        while (next_checkpoint <= task.steps_done()) next_checkpoint += interval;
      }
      progress.update(task.steps_done(), sink.last("val/accuracy"));
    }
    run->write_checkpoint(task.steps_done(), save_both, keep);
    write_controller_schedules(store, run->file("schedules"));
  } else {
  // Train in chunks that end on checkpoint boundaries and on the replayed schedule's change
  // points; commit the store after each chunk.
  const std::int64_t chunk = std::min<std::int64_t>(interval, 50);
  while (stop_signal() == 0 && !task.finished()) {
    replay.apply(task, store);
    const std::int64_t next_checkpoint = (task.steps_done() / interval + 1) * interval;
    const std::int64_t until = std::min(next_checkpoint, replay.next_change(task.steps_done()));
    task.train(std::min(chunk, until - task.steps_done()), sink);
    store.commit();
    if (task.steps_done() % interval == 0 || task.finished()) run->write_checkpoint(task.steps_done(), save, keep);
    progress.update(task.steps_done(), sink.last("val/accuracy"));
  }
  run->write_checkpoint(task.steps_done(), save, keep);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  progress.finish(task.steps_done(), sink.last("val/accuracy"));

  nlohmann::json summary = run->read_summary();
  summary["data"] = task_config.data.name;
  summary["model"] = task_config.trainer.model.type;
  summary["seed"] = task_config.seed;
  summary["steps"] = task.steps_done();
  summary["epochs"] = task.epochs_done();
  summary["parameters"] = task.trainer().parameter_count();
  summary["wall_seconds"] = summary.value("wall_seconds", 0.0) + wall;
  if (controller) summary["controller"] = config.get_string("controller.policy");
  if (stop_signal() != 0) {
    summary["status"] = "stopped";
    run->write_summary(summary);
    store.export_csv(run->file("metrics.csv"));
    std::fprintf(stderr, "stopped by signal %d at step %lld; continue with: graybox fit --resume --out %s\n",
                 stop_signal(), static_cast<long long>(task.steps_done()), out.c_str());
    return 130;
  }
  const optim::EvalMetrics val = task.evaluate_split("val");
  const optim::EvalMetrics test = task.evaluate_split("test");
  summary["val_loss"] = number_or_null(val.loss);
  summary["val_accuracy"] = number_or_null(val.accuracy);
  summary["test_loss"] = number_or_null(test.loss);
  summary["test_accuracy"] = number_or_null(test.accuracy);
  summary["status"] = task.diverged() ? "diverged" : "finished";
  store.set_metric(0, task.steps_done(), "test/loss", test.loss);
  store.set_metric(0, task.steps_done(), "test/accuracy", test.accuracy);
  store.commit();
  run->write_summary(summary);
  store.export_csv(run->file("metrics.csv"));
  if (!options.quiet) {
    std::fprintf(stderr, "%s: test accuracy %.4f, test loss %.4f after %.2f epochs (%.1f s)\n",
                 task.diverged() ? "diverged" : "finished", test.accuracy, test.loss, task.epochs_done(), wall);
  }
  if (!options.quiet || options.out.empty()) std::fprintf(stderr, "run directory: %s\n", out.c_str());
  return 0;
}

}  // namespace graybox::apps
