// One cell of a benchmark: a method on a task with a seed, run as a child graybox process in its
// own run directory (BENCH_DIR/cells/<task>/<method>/seed<S>, its output in BENCH_DIR/logs/),
// then read back: the budget it spent in steps actually trained (a train run's total_steps, a fit
// run's minibatches, a tune run's total_budget: every trial's or member's steps, each rung of a
// multi-fidelity search counted) and its score.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/bench_plan.hpp"

namespace graybox::apps {

struct Cell {
  int index = 0;  // in the plan's order: seed-major (an unfinished benchmark leaves whole seeds), task, method
  int task = 0, method = 0;
  std::int64_t seed = 0;
  std::string dir, log;
};

struct CellResult {
  std::string status;  // done, failed, stopped
  std::int64_t spent = 0;
  double score = 0.0;
  double wall_seconds = 0.0;
  std::string message;  // why it failed
};

// Every cell of the plan under `bench_dir`.
std::vector<Cell> plan_cells(const BenchPlan& plan, const std::string& bench_dir);

// Writes each task's resolved config (its `set` applied) to BENCH_DIR/tasks/<task>.yaml, and checks
// every method against every task before anything runs (a ConfigError names the file and key).
void prepare_tasks(const BenchPlan& plan, const std::string& bench_dir);
std::string task_config_path(const std::string& bench_dir, const std::string& task);

// Called with the pid of each child as it starts (pid > 0) and ends (-pid).
using ChildWatcher = std::function<void(pid_t)>;

// Runs `graybox ARGS...` as a child in a process group of its own that gets SIGTERM if the
// benchmark dies; stdout to `out` (appended or truncated), stderr appended to `err`. Returns the
// exit code (128 + signal for a child stopped by one).
int run_graybox_child(const std::vector<std::string>& args, const std::string& out, const std::string& err,
                      const ChildWatcher& watch, bool append_out);
// A run a killed benchmark left may still be stopping (its process got SIGTERM when the benchmark
// died): waits for its directory's lock, up to five minutes.
void wait_until_free(const std::string& dir);
// Whether an exit code is a stop (Ctrl-C, SIGTERM) rather than a failure.
bool is_stop_code(int code);
// A run directory's summary.json ({} if missing or unreadable) and whether it has a checkpoint.
nlohmann::json read_run_summary(const std::string& dir);
bool has_checkpoint(const std::string& dir);
// Runs the graybox run in `dir` to its end: nothing if its summary says finished or diverged
// (returns 0), `argv(true)` (a --resume) if `can_resume()` finds something to continue from,
// else `argv(false)` from nothing, removing what a kill left. Output to `log`; the exit code.
int run_to_end(const std::string& dir, const std::function<bool()>& can_resume,
               const std::function<std::vector<std::string>(bool resume)>& argv, const std::string& log, const ChildWatcher& watch);

// Runs the cell to its end (continuing a run directory that a killed benchmark left; `restart`:
// removing it first, for a cell that failed), then scores it. A child stopped by a signal gives
// status "stopped".
CellResult run_cell(const BenchPlan& plan, const std::string& bench_dir, const Cell& cell, bool restart,
                    const ChildWatcher& watch);

}  // namespace graybox::apps
