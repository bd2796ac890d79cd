// The subcommands of the `graybox` tool. Each returns the process exit code; user errors are
// thrown as core::UserError and turned into exit code 2 by main.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/config_schema.hpp"

namespace graybox::apps {

struct TrainOptions {
  std::string config_path;
  std::vector<std::string> overrides;  // --set key=value
  std::string out;                     // run directory ("" = runs/<stem>-<time>)
  bool resume = false;
  bool quiet = false;
};

struct EvalOptions {
  std::string run_dir;
  int episodes = 10;
  bool json = false;
  std::string video;  // --video: also render the episodes into this MP4 ("" = no video)
};

struct TuneOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  std::string out;
  bool resume = false;
  bool quiet = false;
  std::string parallel;  // --parallel: sets tune.parallel (checked like it); "" = the config's
  // --storage URL: the experiment is a study in a shared store ("" = the run directory's SQLite).
  std::string storage;
  std::string study = "default";  // --study
  bool workers_only = false;      // --workers-only: set the study up and exit
  // graybox worker: work in an existing study (its directory from the store), nothing else.
  bool worker = false;
  int max_trials = 0;             // --max-trials: a worker leaves after committing this many
  double idle_exit = 0.0;         // --idle-exit: a worker leaves after this long without a job
  double lease_seconds = 10.0;    // --lease: a job's lease, renewed every third of it
};

// graybox worker --storage URL --study NAME: pulls jobs of the study until it is done.
int worker_command(TuneOptions options);

// The schema of `graybox tune` configs: seed, task, base_config, tune.*, and a raw search_space.
core::ConfigSchema tune_schema();
int tune_command(const TuneOptions& options);

// The schema of `graybox fit` configs: seed, data.*, model.*, optimizer.*, schedule.*, train.*.
core::ConfigSchema fit_schema();
int fit_command(const TrainOptions& options);  // supervised training; same options as train
// Whether a fit config leaves the learning rate and weight decay to controller.policy (a constant
// schedule of 1, no warm-up, no replay); a ConfigError naming the key if not.
void check_policy_can_steer(const core::Config& config);

// The schema of `graybox train` configs: seed, total_steps, env.*, agent.*, checkpoint.*, eval.*.
core::ConfigSchema train_schema();

int train_command(const TrainOptions& options);

// The schema of `graybox control train` configs: seed, total_steps, control.*, dac.*, agent.*,
// checkpoint.*, eval.*.
core::ConfigSchema control_train_schema();
// Meta-trains the learned lr/wd controller into a run directory (policy.pt at the end).
int control_train_command(const TrainOptions& options);
// The eval.* keys of `graybox control eval` (in the same config as control train).
void add_control_eval_schema(core::ConfigSchema& schema);
// The policy against the tuned baselines on the held-out test instances (table, CSV).
int control_eval_command(const TrainOptions& options);
int eval_command(const EvalOptions& options);
int envs_command(bool json);
// Every config key of `command`'s schema (train, fit or tune; "" for all three).
int keys_command(const std::string& command, bool json);
// The best member's ancestry in a pbt/pb2 tune run; writes lineage.json, lineage.dot and
// schedules/best.yaml into the run directory.
int lineage_command(const std::string& run_dir, bool json);

struct BenchOptions {
  std::string config_path;  // BENCH.yaml ("" with --resume: the plan saved in --out)
  std::string out;          // the benchmark directory ("" = runs/<stem>-<time>)
  std::string parallel;     // --parallel: cells side by side ("" = the file's `parallel`)
  bool resume = false;
  bool smoke = false;       // every entry's smoke_set and smoke.seeds: tiny budgets
  bool quiet = false;
  std::string storage;      // --storage URL: the benchmark's plan and cells in that store ("": DIR/store.sqlite)
  std::string study = "default";  // --study NAME in a shared store
};
// graybox bench BENCH.yaml: methods x tasks x seeds, each cell a graybox process (bench_plan.hpp).
int bench_command(const BenchOptions& options);

// graybox report RUN_DIR: PNG pictures and index.html in `out` (default RUN_DIR/report); `metric`
// picks the learning curve's metric ("" = the run's main one).
int report_command(const std::string& run_dir, const std::string& out, const std::string& metric);

}  // namespace graybox::apps
