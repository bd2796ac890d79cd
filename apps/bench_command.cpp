// graybox bench BENCH.yaml: every cell (method x task x seed) runs as a child graybox process,
// `parallel` at a time; each cell's result is committed to the benchmark's store.sqlite as it
// finishes, so a killed benchmark continued with --resume redoes no finished cell (an unfinished
// one continues its own run directory with --resume). Ctrl-C stops every running cell once
// (they keep their checkpoints); the cells run in process groups of their own and get SIGTERM
// if the benchmark dies. A control method meta-trains once before its cells (bench_meta.hpp).
// At the end: the statistics table on stdout, results.csv, profiles.csv.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "apps/bench_cell.hpp"
#include "apps/bench_meta.hpp"
#include "apps/bench_plan.hpp"
#include "apps/bench_results.hpp"
#include "apps/commands.hpp"
#include "apps/run_dir.hpp"
#include "apps/stop_signal.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "store/open_store.hpp"
#include "store/sqlite_store.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace graybox::apps {
namespace {

std::string clock_text(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return text;
}

// The plan: BENCH.yaml, or with --resume the one saved in the directory (a BENCH.yaml given
// beside --resume must plan the same benchmark).
BenchPlan resolve_plan(const BenchOptions& options, const std::string& out, bool& fresh) {
  fresh = true;
  if (options.resume) {
    if (out.empty()) throw core::UserError("--resume needs --out BENCH_DIR (the benchmark to continue)");
    const std::unique_ptr<core::Store> store = open_bench_store(out);
    if (!store) throw core::UserError(out + ": not a benchmark directory (no store.sqlite or storage.json)");
    if (!is_bench_store(*store)) throw core::UserError(out + ": holds a run, not a benchmark");
    BenchPlan saved = saved_plan(*store);
    if (!options.config_path.empty()) {
      BenchPlan given = load_bench_plan(options.config_path, options.smoke);
      given.parallel = saved.parallel;
      if (given.to_json() != saved.to_json()) {
        throw core::UserError(options.config_path + ": plans another benchmark than the one in " + out +
                              " (drop BENCH.yaml to continue the saved one, or choose another --out)");
      }
    }
    fresh = false;
    return saved;
  }
  if (options.config_path.empty()) throw core::UserError("bench: a BENCH.yaml is required (or --resume --out BENCH_DIR)");
  return load_bench_plan(options.config_path, options.smoke);
}

// Running children, so a stop reaches each of them once.
class Children {
 public:
  void watch(pid_t pid) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (pid > 0) {
      running_.insert(pid);
      if (stopping_) ::kill(pid, SIGTERM);
    } else {
      running_.erase(-pid);
    }
  }
  void stop_all() {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (const pid_t pid : running_) ::kill(pid, SIGTERM);
  }

 private:
  std::mutex mutex_;
  std::set<pid_t> running_;
  bool stopping_ = false;
};

}  // namespace

int bench_command(const BenchOptions& options) {
  bool fresh = true;
  std::string out = options.out;
  BenchPlan plan = resolve_plan(options, out, fresh);
  if (!options.parallel.empty()) {
    static const core::ConfigSchema schema = bench_schema();
    const core::ConfigField* field = schema.find("parallel");
    const std::string problem = core::check_value(*field, options.parallel);
    if (!problem.empty()) throw core::UserError("--parallel " + options.parallel + ": " + problem);
    plan.parallel = std::stoi(options.parallel);
  }
  if (out.empty()) out = default_run_path(options.config_path);
  fs::create_directories(out);
  const core::DirLock lock(out);
  if (fresh && (fs::exists(out + "/store.sqlite") || fs::exists(out + "/storage.json"))) {
    throw core::UserError(out + ": this directory already holds a benchmark; pass --resume to continue it or choose another --out");
  }
  const auto [saved_url, saved_study] = bench_storage(out);
  if (options.resume && !options.storage.empty() && (options.storage != saved_url || options.study != saved_study)) {
    throw core::UserError("--storage " + options.storage + " --study " + options.study + ": " + out + " keeps its benchmark in " +
                          (saved_url.empty() ? out + "/store.sqlite" : saved_url + " study " + saved_study) +
                          " (drop --storage to continue it there)");
  }
  std::unique_ptr<core::Store> store;
  if (fresh && !options.storage.empty()) {
    store = store::open_store(store::parse_storage_url(options.storage, "--storage"), options.study);
    if (is_bench_store(*store)) {
      throw core::UserError("--study " + options.study + ": " + store->location() +
                            " already holds a benchmark by that name; choose another --study, or --resume its --out");
    }
  }
  prepare_tasks(plan, out);
  if (fresh && !options.storage.empty()) write_bench_storage(out, options.storage, options.study);
  if (!store) store = open_bench_store(out);
  if (!store) store = std::make_unique<store::SqliteStore>(out + "/store.sqlite");
  if (fresh) {
    store->set_meta("kind", "bench");
    store->set_meta("bench_plan", plan.to_json().dump());
  }

  const std::vector<Cell> cells = plan_cells(plan, out);
  std::set<int> done, failed_before;  // failed cells start again from nothing
  for (const auto& row : store->trials()) {
    if (row.status == "done") done.insert(static_cast<int>(row.trial));
    if (row.status == "failed") failed_before.insert(static_cast<int>(row.trial));
  }
  std::vector<const Cell*> queue;
  for (const auto& c : cells) {
    if (!done.count(c.index)) queue.push_back(&c);
  }
  if (!options.quiet) {
    std::fprintf(stderr, "%s %zu cells (%zu methods x %zu tasks x %zu seeds) into %s: %zu done, %zu to run, %d at a time\n",
                 fresh ? "benchmark of" : "resuming", cells.size(), plan.methods.size(), plan.tasks.size(),
                 plan.seeds.size(), out.c_str(), done.size(), queue.size(), plan.parallel);
  }

  install_stop_handlers("graybox bench --resume --out " + out);
  Children children;
  const ChildWatcher watch = [&](pid_t pid) { children.watch(pid); };

  // Control methods meta-train first, one at a time (each trains on its own control.num_threads),
  // on a thread of its own while this one passes a stop on to the child.
  std::vector<MetaTraining> meta_trainings = saved_meta_trainings(*store);
  std::set<std::string> failed_meta;
  for (const auto& method : plan.methods) {
    if (method.command != "control" || stop_signal() != 0) continue;
    auto known = std::find_if(meta_trainings.begin(), meta_trainings.end(), [&](const MetaTraining& m) { return m.method == method.name; });
    if (known != meta_trainings.end() && (known->status == "finished" || known->status == "diverged")) continue;
    if (!options.quiet) {
      std::fprintf(stderr, "meta-training %s into %s (log: %s)\n", method.name.c_str(), meta_training_dir(out, method.name).c_str(),
                   meta_training_log(out, method.name).c_str());
    }
    MetaTraining m;
    std::atomic<bool> over{false};
    std::thread job([&] {
      try {
        m = run_meta_training(out, method, watch);
      } catch (const std::exception& e) {
        m.method = method.name, m.status = "failed", m.message = e.what();
      }
      over = true;
    });
    while (!over) {
      if (stop_signal() != 0) children.stop_all();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    job.join();
    if (m.status == "stopped") break;
    if (known != meta_trainings.end()) {
      *known = m;
    } else {
      meta_trainings.push_back(m);
    }
    save_meta_trainings(*store, meta_trainings);
    if (m.status == "failed") failed_meta.insert(method.name);
    if (!options.quiet) {
      if (m.status == "failed") {
        std::fprintf(stderr, "meta-training %s failed: %s; its cells are not run\n", method.name.c_str(), m.message.c_str());
      } else {
        std::fprintf(stderr, "meta-training %s %s: %lld minibatches in %lld episodes, %.1f s (apart from the cells' budgets)\n",
                     method.name.c_str(), m.status.c_str(), static_cast<long long>(m.minibatches),
                     static_cast<long long>(m.episodes), m.wall_seconds);
      }
    }
  }
  std::mutex mutex;  // the store, the counters, stderr
  std::size_t next = 0, running = 0, finished_now = 0, failed = 0;
  const auto started = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  const auto worker = [&] {
    for (;;) {
      const Cell* cell = nullptr;
      {
        const std::lock_guard<std::mutex> guard(mutex);
        if (stop_signal() != 0 || next >= queue.size()) return;
        cell = queue[next++];
        ++running;
      }
      CellResult r;
      const std::string& method_name = plan.methods[static_cast<std::size_t>(cell->method)].name;
      try {
        if (failed_meta.count(method_name)) {
          r.status = "failed";
          r.message = "the meta-training of " + method_name + " failed (see " + meta_training_log(out, method_name) + ")";
        } else {
          r = run_cell(plan, out, *cell, failed_before.count(cell->index) > 0, watch);
        }
      } catch (const std::exception& e) {
        r.status = "failed";
        r.message = e.what();
      }
      const std::lock_guard<std::mutex> guard(mutex);
      --running;
      const auto& task = plan.tasks[static_cast<std::size_t>(cell->task)].name;
      const auto& method = plan.methods[static_cast<std::size_t>(cell->method)].name;
      if (r.status == "stopped") continue;
      const json key{{"task", task}, {"method", method}, {"seed", cell->seed}, {"dir", fs::relative(cell->dir, out).string()},
                     {"wall_seconds", r.wall_seconds}};
      store->upsert_trial({cell->index, key.dump(), r.spent, std::isfinite(r.score) ? -r.score : r.score, r.score, r.status});
      store->commit();
      if (r.status == "done") {
        ++finished_now, done.insert(cell->index);
      } else {
        ++failed;
      }
      if (!options.quiet) {
        std::fprintf(stderr, "%s %s seed %lld: %s\n", task.c_str(), method.c_str(), static_cast<long long>(cell->seed),
                     r.status == "done" ? ("score " + std::to_string(r.score) + ", " + std::to_string(r.spent) + " steps trained")
                                                .c_str()
                                        : ("failed: " + r.message).c_str());
      }
    }
  };
  std::vector<std::thread> workers;
  for (int k = 0; k < plan.parallel && static_cast<std::size_t>(k) < queue.size(); ++k) workers.emplace_back(worker);
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  auto last_line = std::chrono::steady_clock::now();
  for (;;) {
    {
      const std::lock_guard<std::mutex> guard(mutex);
      if (next >= queue.size() && running == 0) break;
      if (stop_signal() != 0 && running == 0) break;
      const auto now = std::chrono::steady_clock::now();
      if (!options.quiet && now - last_line >= std::chrono::seconds(tty ? 1 : 10)) {
        last_line = now;
        const std::size_t left = queue.size() - next;
        const double eta = finished_now > 0 ? elapsed() / static_cast<double>(finished_now) * static_cast<double>(left + running) : -1;
        std::fprintf(stderr, "%scells %zu/%zu done, %zu running, %zu left%s, %s elapsed, ETA %s%s", tty ? "\r\033[K" : "",
                     done.size(), cells.size(), running, left, failed ? (", " + std::to_string(failed) + " failed").c_str() : "",
                     clock_text(elapsed()).c_str(), eta < 0 ? "?" : clock_text(eta).c_str(), tty ? "" : "\n");
      }
    }
    if (stop_signal() != 0) children.stop_all();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (auto& w : workers) w.join();
  if (!options.quiet && tty) std::fprintf(stderr, "\r\033[K");

  json summary{{"kind", "bench"}, {"cells", cells.size()}, {"done", done.size()}, {"failed", failed},
               {"status", stop_signal() != 0 ? "stopped" : done.size() == cells.size() ? "finished" : "incomplete"}};
  core::write_file_atomic(out + "/summary.json", summary.dump(2) + "\n");
  if (stop_signal() != 0) {
    std::fprintf(stderr, "stopped by signal %d with %zu of %zu cells done; continue with: graybox bench --resume --out %s\n",
                 stop_signal(), done.size(), cells.size(), out.c_str());
    return 130;
  }
  const core::BenchmarkOptions table_options = bench_options(plan);
  const core::BenchmarkTable table = core::benchmark_table(bench_runs(*store, plan), table_options);
  const std::string markdown = write_bench_tables(out, table, table_options, meta_trainings);
  std::printf("%s", markdown.c_str());
  for (const auto& row : table.rows) {
    if (row.budget_off) {
      std::printf("warning: %s on %s spent %.0f steps per cell, more than %.0f %% off the budget %lld\n", row.method.c_str(),
                  row.scope.c_str(), row.mean_spent, 100 * plan.budget_tolerance, static_cast<long long>(plan.budget));
    }
  }
  std::printf("%zu of %zu cells done; results.csv, profiles.csv and results.md in %s\n", done.size(), cells.size(), out.c_str());
  if (failed > 0) {
    std::fprintf(stderr, "%zu cells failed (their logs are in %s/logs); graybox bench --resume --out %s runs them again\n",
                 failed, out.c_str(), out.c_str());
    return 1;
  }
  return 0;
}

}  // namespace graybox::apps
