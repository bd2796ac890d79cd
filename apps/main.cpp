// graybox: hyperparameter control for deep learning. `graybox --help` lists the subcommands;
// each subcommand's --help shows an example.
#include <CLI/CLI.hpp>

#include <c10/util/Exception.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <new>
#include <string>

#include "apps/commands.hpp"
#include "core/error.hpp"
#include "core/version.hpp"

int main(int argc, char** argv) {
  using namespace graybox;
  CLI::App app{"graybox " GRAYBOX_VERSION ": hyperparameter control for deep learning"};
  app.set_version_flag("--version", "graybox " GRAYBOX_VERSION);
  app.require_subcommand(1);

  apps::TrainOptions train;
  auto* train_cmd = app.add_subcommand("train", "train an agent from a YAML config into a run directory");
  train_cmd->footer(
      "Example:\n"
      "  graybox train configs/quickstart.yaml --set agent.learning_rate=1e-3 --out runs/pendulum\n"
      "  graybox train --resume --out runs/pendulum      # continue a stopped or killed run");
  train_cmd->add_option("config", train.config_path, "the YAML config file");
  train_cmd->add_option("--set", train.overrides, "override a config key: KEY=VALUE (repeatable)");
  train_cmd->add_option("--out", train.out, "the run directory (default runs/<config>-<time>)");
  train_cmd->add_flag("--resume", train.resume, "continue the run in --out from its last checkpoint");
  train_cmd->add_flag("--quiet", train.quiet, "no progress line");

  apps::TrainOptions fit;
  auto* fit_cmd = app.add_subcommand("fit", "train a supervised model (data set, optimizer, schedule) from a YAML config");
  fit_cmd->footer(
      "Example:\n"
      "  graybox fit configs/fit/fashion_mlp.yaml --set optimizer.lr=3e-3 --out runs/fashion\n"
      "  graybox fit --resume --out runs/fashion          # continue a stopped or killed run");
  fit_cmd->add_option("config", fit.config_path, "the YAML config file");
  fit_cmd->add_option("--set", fit.overrides, "override a config key: KEY=VALUE (repeatable)");
  fit_cmd->add_option("--out", fit.out, "the run directory (default runs/<config>-<time>)");
  fit_cmd->add_flag("--resume", fit.resume, "continue the run in --out from its last checkpoint");
  fit_cmd->add_flag("--quiet", fit.quiet, "no progress line");

  apps::EvalOptions eval;
  auto* eval_cmd = app.add_subcommand("eval", "evaluate a run: a train run's last checkpoint (deterministic episodes), a fit run's "
                                               "test figures, a tune or PBT run's best trial or member");
  eval_cmd->footer("Example:\n  graybox eval runs/pendulum --episodes 20 --json\n  graybox eval runs/digits\n"
                   "  graybox eval runs/ppo_idp_bohb-20260101-120000");
  eval_cmd->add_option("run_dir", eval.run_dir, "the run directory")->required();
  eval_cmd->add_option("--episodes", eval.episodes, "episodes to run (default 10)")->check(CLI::Range(1, 100000));
  eval_cmd->add_flag("--json", eval.json, "print JSON");
  eval_cmd->add_option("--video", eval.video, "render the episodes offscreen into this MP4 file");

  apps::TuneOptions tune;
  auto* tune_cmd = app.add_subcommand("tune", "tune hyperparameters: random, grid, gp, tpe, sha, hyperband, asha, bohb, pbt, pb2");
  tune_cmd->footer(
      "Example:\n"
      "  graybox tune configs/tune/branin_bohb.yaml --out runs/branin-bohb\n"
      "  graybox tune configs/tune/ppo_idp_bohb.yaml --parallel 2\n"
      "  graybox tune --resume --out runs/branin-bohb     # continue a killed experiment");
  tune_cmd->add_option("config", tune.config_path, "the tune YAML (search_space, tune.*)");
  tune_cmd->add_option("--set", tune.overrides, "override a key of the tune config: KEY=VALUE (repeatable)");
  tune_cmd->add_option("--out", tune.out, "the run directory (default runs/<config>-<time>)");
  tune_cmd->add_option("--parallel", tune.parallel, "trials trained side by side (default tune.parallel)");
  tune_cmd->add_flag("--resume", tune.resume, "continue the experiment in --out");
  tune_cmd->add_flag("--quiet", tune.quiet, "no progress lines or table");
  tune_cmd->add_option("--storage", tune.storage,
                       "a store that workers share: postgresql://user@host:port/db (default: the run directory's SQLite)");
  tune_cmd->add_option("--study", tune.study, "the experiment's name in the shared store (default 'default')");
  tune_cmd->add_flag("--workers-only", tune.workers_only, "with --storage: set the study up and exit; graybox worker does the work");
  tune_cmd->add_option("--lease", tune.lease_seconds, "with --storage: seconds a job's lease lasts (renewed every third)")
      ->check(CLI::Range(0.5, 86400.0));

  apps::TuneOptions worker;
  auto* worker_cmd = app.add_subcommand("worker", "pull the jobs of a study in a shared store until it is done");
  worker_cmd->footer(
      "Example:\n"
      "  graybox tune configs/tune/branin_random.yaml --out /shared/runs/b --storage postgresql://me@db:5432/graybox --study b --workers-only\n"
      "  graybox worker --storage postgresql://me@db:5432/graybox --study b     # on any machine that sees /shared");
  worker_cmd->add_option("--storage", worker.storage, "the shared store: postgresql://user@host:port/db")->required();
  worker_cmd->add_option("--study", worker.study, "the study (default 'default')");
  worker_cmd->add_option("--max-trials", worker.max_trials, "leave after committing this many results")->check(CLI::Range(1, 100000000));
  worker_cmd->add_option("--idle-exit", worker.idle_exit, "leave after this many seconds without a job")->check(CLI::Range(0.0, 1e9));
  worker_cmd->add_option("--lease", worker.lease_seconds, "seconds a job's lease lasts (renewed every third)")->check(CLI::Range(0.5, 86400.0));
  worker_cmd->add_flag("--quiet", worker.quiet, "no line per result");

  apps::TrainOptions control_train;
  auto* control_cmd = app.add_subcommand("control", "the learned lr/wd meta-controller: control train, control eval");
  control_cmd->require_subcommand(1);
  auto* control_train_cmd =
      control_cmd->add_subcommand("train", "meta-train a PPO policy that sets lr and weight decay over the training instances");
  control_train_cmd->footer(
      "Example:\n"
      "  graybox control train configs/control/train.yaml --out runs/controller\n"
      "  graybox control train --resume --out runs/controller     # continue a stopped or killed run\n"
      "  graybox fit configs/fit/fashion_mlp.yaml --set controller.policy=runs/controller/policy.pt");
  control_train_cmd->add_option("config", control_train.config_path, "the YAML config file");
  control_train_cmd->add_option("--set", control_train.overrides, "override a config key: KEY=VALUE (repeatable)");
  control_train_cmd->add_option("--out", control_train.out, "the run directory (default runs/<config>-<time>)");
  control_train_cmd->add_flag("--resume", control_train.resume, "continue the run in --out from its last checkpoint");
  control_train_cmd->add_flag("--quiet", control_train.quiet, "no progress line");

  apps::TrainOptions control_eval;
  auto* control_eval_cmd = control_cmd->add_subcommand(
      "eval", "the policy (eval.policy) against tuned baselines on the held-out test instances: table and CSV");
  control_eval_cmd->footer(
      "Example:\n"
      "  graybox control eval configs/control/train.yaml --set eval.policy=runs/controller/policy.pt");
  control_eval_cmd->add_option("config", control_eval.config_path, "the YAML config file (the meta-training's)")->required();
  control_eval_cmd->add_option("--set", control_eval.overrides, "override a config key: KEY=VALUE (repeatable)");
  control_eval_cmd->add_flag("--quiet", control_eval.quiet, "no progress note");

  apps::BenchOptions bench;
  auto* bench_cmd = app.add_subcommand("bench", "compare methods (train, fit, tune configs) on tasks over seeds at matched budgets");
  bench_cmd->footer(
      "Example:\n"
      "  graybox bench configs/bench/supervised.yaml --parallel 2 --out runs/bench-supervised\n"
      "  graybox bench configs/bench/supervised.yaml --smoke --out runs/bench-smoke   # tiny budgets\n"
      "  graybox bench --resume --out runs/bench-supervised   # continue a killed benchmark\n"
      "  graybox report runs/bench-supervised                 # pictures and index.html\n"
      "Keys of BENCH.yaml: graybox keys bench");
  bench_cmd->add_option("config", bench.config_path, "the BENCH.yaml (methods, tasks, seeds)");
  bench_cmd->add_option("--out", bench.out, "the benchmark directory (default runs/<config>-<time>)");
  bench_cmd->add_option("--parallel", bench.parallel, "cells run side by side (default: the file's parallel)");
  bench_cmd->add_flag("--resume", bench.resume, "continue the benchmark in --out; finished cells are kept");
  bench_cmd->add_flag("--smoke", bench.smoke, "tiny budgets: every entry's smoke_set and smoke.seeds");
  bench_cmd->add_flag("--quiet", bench.quiet, "no progress lines");
  bench_cmd->add_option("--storage", bench.storage,
                        "the benchmark's store: sqlite:///path or postgresql://user@host:port/db (default: DIR/store.sqlite)");
  bench_cmd->add_option("--study", bench.study, "with --storage: the benchmark's name in a shared database (default: default)");

  std::string lineage_dir;
  bool lineage_json = false;
  auto* lineage_cmd = app.add_subcommand("lineage", "show the best member's ancestry in a pbt/pb2 run and export it");
  lineage_cmd->footer(
      "Example:\n"
      "  graybox lineage runs/pbt-quick          # also writes lineage.json, lineage.dot, schedules/best.yaml\n"
      "  dot -Tsvg runs/pbt-quick/lineage.dot -o lineage.svg\n"
      "  graybox train configs/train/ppo_inverted_double_pendulum.yaml --set replay.file=runs/pbt-quick/schedules/best.yaml");
  lineage_cmd->add_option("run_dir", lineage_dir, "the tune run directory")->required();
  lineage_cmd->add_flag("--json", lineage_json, "print JSON");

  std::string report_dir, report_out, report_metric;
  auto* report_cmd = app.add_subcommand("report", "draw a run's or a benchmark's learning curves, hyperparameters, lineage and scores");
  report_cmd->footer(
      "Example:\n"
      "  graybox report runs/pbt-quick            # PNGs and index.html in runs/pbt-quick/report\n"
      "Needs /usr/bin/python3 with matplotlib: sudo apt-get install python3-matplotlib");
  report_cmd->add_option("run_dir", report_dir, "a train, fit, tune or bench run directory")->required();
  report_cmd->add_option("--out", report_out, "where the pictures go (default RUN_DIR/report)");
  report_cmd->add_option("--metric", report_metric, "the metric of the learning curves (default: the run's main one)");

  std::string keys_of;
  bool keys_json = false;
  auto* keys_cmd = app.add_subcommand("keys", "list the config keys of train, fit, tune, control or bench: type, default, range, doc");
  keys_cmd->footer("Example:\n  graybox keys train\n  graybox keys tune --json");
  keys_cmd->add_option("command", keys_of, "train, fit, tune, control or bench (default: all five)");
  keys_cmd->add_flag("--json", keys_json, "print JSON");

  bool envs_json = false;
  auto* envs_cmd = app.add_subcommand("envs", "list the registered environments");
  envs_cmd->footer("Example:\n  graybox envs --json");
  envs_cmd->add_flag("--json", envs_json, "print JSON");

  // A first word that is no subcommand: name it, rather than CLI11's "A subcommand is required".
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "error: unknown subcommand '%s'; the subcommands are %s (graybox --help)\n", argv[1], names.c_str());
      return core::kExitUserError;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : core::kExitUserError;
  }

  try {
    if (*train_cmd) return apps::train_command(train);
    if (*fit_cmd) return apps::fit_command(fit);
    if (*control_train_cmd) return apps::control_train_command(control_train);
    if (*control_eval_cmd) return apps::control_eval_command(control_eval);
    if (*eval_cmd) return apps::eval_command(eval);
    if (*envs_cmd) return apps::envs_command(envs_json);
    if (*keys_cmd) return apps::keys_command(keys_of, keys_json);
    if (*tune_cmd) return apps::tune_command(tune);
    if (*worker_cmd) return apps::worker_command(worker);
    if (*bench_cmd) return apps::bench_command(bench);
    if (*lineage_cmd) return apps::lineage_command(lineage_dir, lineage_json);
    if (*report_cmd) return apps::report_command(report_dir, report_out, report_metric);
  } catch (const core::UserError& e) {
    std::fprintf(stderr, "\nerror: %s\n", e.what());
    return core::kExitUserError;
  } catch (const std::filesystem::filesystem_error& e) {
    // The machine's refusal (permissions, a full disk, a file in the way), naming the paths.
    std::fprintf(stderr, "\nerror: %s\n", e.what());
    return core::kExitUserError;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "\nerror: out of memory (a smaller network, batch or data set may fit)\n");
    return core::kExitUserError;
  } catch (const c10::Error& e) {
    // LibTorch's message without its stack trace; a failed allocation is the user's to fix.
    std::string message = e.what_without_backtrace();
    message = message.substr(0, message.find('\n'));
    if (message.find("allocate") != std::string::npos) {
      std::fprintf(stderr, "\nerror: out of memory: %s (a smaller network, batch or data set may fit)\n", message.c_str());
      return core::kExitUserError;
    }
    std::fprintf(stderr, "\ninternal error: %s\n", message.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\ninternal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
