#include <atomic>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "apps/commands.hpp"
#include "apps/rl_trial_factory.hpp"
#include "apps/supervised_trial_factory.hpp"
#include "apps/run_dir.hpp"
#include "apps/stop_signal.hpp"
#include "controllers/controller.hpp"
#include "controllers/tune_runner.hpp"
#include "core/config.hpp"
#include "core/files.hpp"
#include "core/search_space.hpp"
#include "core/yaml.hpp"
#include "pbt/pbt_controller.hpp"
#include "pbt/population_runner.hpp"
#include "controllers/study_worker.hpp"
#include "core/rng.hpp"
#include "store/open_store.hpp"
#include "store/sqlite_store.hpp"
#include "tasks/synthetic_task.hpp"

namespace fs = std::filesystem;

namespace graybox::apps {
namespace {

const std::vector<std::string> kAlgorithms = {"random", "grid", "gp", "tpe", "sha", "hyperband", "asha", "bohb", "pbt", "pb2"};

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// The experiment's directory, locked for the experiment's life.
struct Experiment {
  std::string out;
  std::unique_ptr<core::DirLock> lock;
};

// Creates and locks the experiment's directory (refusing one that holds an experiment unless
// resuming) and, for a new experiment, writes its resolved config with the search space.
Experiment open_experiment(const TuneOptions& options, const std::string& path, const core::Config& config,
                           const YAML::Node& root) {
  Experiment e;
  e.out = options.out.empty() ? default_run_path(path) : options.out;
  std::error_code ec;
  if (fs::exists(e.out, ec) && !fs::is_directory(e.out, ec)) {
    throw core::UserError(e.out + ": exists and is not a directory (give --out a folder for the experiment)");
  }
  fs::create_directories(e.out, ec);
  if (ec) throw core::UserError(e.out + ": cannot create the experiment directory: " + ec.message());
  e.lock = std::make_unique<core::DirLock>(e.out);
  if (!options.resume && fs::exists(e.out + "/store.sqlite")) {
    throw core::UserError(e.out + ": this directory already holds an experiment; pass --resume to continue it or choose another --out");
  }
  if (!options.resume) {
    YAML::Emitter space_yaml;
    space_yaml << YAML::BeginMap << YAML::Key << "search_space" << YAML::Value << root["search_space"] << YAML::EndMap;
    core::write_file_atomic(e.out + "/config.yaml", config.to_yaml() + space_yaml.c_str() + "\n");
  }
  return e;
}

// --parallel sets tune.parallel, with the key's range check. A resume uses the value saved with
// the experiment unless --parallel is given, and says which.
void apply_parallel(const TuneOptions& options, core::Config& config) {
  const long long saved = config.get_int("tune.parallel");
  if (!options.parallel.empty()) {
    try {
      config.set("tune.parallel", options.parallel);
    } catch (const core::ConfigError& e) {
      throw core::UserError("--parallel " + options.parallel + ": " + e.what());
    }
  }
  if (!options.resume || options.quiet) return;
  if (options.parallel.empty()) {
    std::fprintf(stderr, "resuming with parallel %lld, as saved with the experiment\n", saved);
  } else if (config.get_int("tune.parallel") != saved) {
    std::fprintf(stderr, "resuming with parallel %lld from --parallel (the experiment was saved with %lld, which a "
                 "--resume without --parallel uses)\n", config.get_int("tune.parallel"), saved);
  }
}

// While a batch trains: a line every few seconds (rewritten in place on a terminal) with the
// trials done (of those planned, where the controller fixes their number), the results, the
// best score so far, the budget spent, the time and, with a plan, the time left.
class TuneProgress {
 public:
  TuneProgress(bool enabled, int planned, std::string metric)
      : enabled_(enabled), tty_(::isatty(STDERR_FILENO) != 0), planned_(planned), metric_(std::move(metric)) {
    if (enabled_) thread_ = std::thread([this] { loop(); });
  }
  ~TuneProgress() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (enabled_ && tty_) std::fprintf(stderr, "\r\033[K");
  }
  // After each committed batch.
  void update(int trials, std::size_t results, double best, std::int64_t units) {
    const std::lock_guard<std::mutex> lock(mutex_);
    trials_ = trials, results_ = results, best_ = best, units_ = units;
  }
  // Clears a terminal's progress line before other output.
  void clear() const {
    if (enabled_ && tty_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::seconds(tty_ ? 1 : 5), [this] { return done_; })) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
      char eta[64] = "";
      if (planned_ > 0 && trials_ > 0) {
        const double left = elapsed / trials_ * std::max(0, planned_ - trials_);
        std::snprintf(eta, sizeof(eta), "  ETA %02d:%02d", static_cast<int>(left) / 60, static_cast<int>(left) % 60);
      }
      char plan[32] = "";
      if (planned_ > 0) std::snprintf(plan, sizeof(plan), "/%d", planned_);
      std::fprintf(stderr, "%strials %d%s done, %zu results, best %s %.6g, budget %lld units, %02d:%02d%s%s",
                   tty_ ? "\r\033[K" : "", trials_, plan, results_, metric_.c_str(), best_,
                   static_cast<long long>(units_), static_cast<int>(elapsed) / 60, static_cast<int>(elapsed) % 60, eta,
                   tty_ ? "" : "\n");
      std::fflush(stderr);
    }
  }
  const bool enabled_, tty_;
  const int planned_;
  const std::string metric_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  int trials_ = 0;
  std::size_t results_ = 0;
  double best_ = std::nan("");
  std::int64_t units_ = 0;
  std::thread thread_;
};

// history.csv, written whole and replaced atomically.
void write_history(const std::string& out, const std::string& text) { core::write_file_atomic(out + "/history.csv", text); }

// The figures both kinds of experiment end with.
struct Outcome {
  std::string algorithm;
  int trials = 0;
  std::int64_t total_steps = 0, total_units = 0;
  double wall = 0.0, controller_seconds = 0.0;
  bool has_best = false;
  double best_score = 0.0;
  int best_trial = -1;
  core::Configuration best_config;
  std::uint64_t best_seed = 0;
  std::string best_yaml_note;  // appended to best.yaml
};

// summary.json (the common fields, then `extra`), best.yaml, and the stop message. Returns the
// exit code: 130 when stopped by a signal.
int finish_experiment(const std::string& out, const core::Config& config, const core::SearchSpace& space,
                      const core::TrialFactory& factory, const Outcome& o, const nlohmann::json& extra) {
  nlohmann::json summary;
  summary["algorithm"] = o.algorithm;
  summary["task"] = config.get_string("task");
  summary["metric"] = factory.metric();
  summary["mode"] = factory.maximize() ? "max" : "min";
  summary["trials"] = o.trials;
  summary["total_budget"] = o.total_steps;
  summary["total_budget_units"] = o.total_units;
  summary["parallel"] = config.get_int("tune.parallel");
  summary["wall_seconds"] = o.wall;
  summary["controller_seconds"] = o.controller_seconds;
  summary["status"] = stop_signal() != 0 ? "stopped" : "finished";
  for (const auto& [key, value] : extra.items()) summary[key] = value;
  if (o.has_best) {
    summary["best_score"] = o.best_score;
    summary["best_trial"] = o.best_trial;
    summary["best_config"] = nlohmann::json::parse(space.to_json(o.best_config));
    core::write_file_atomic(out + "/best.yaml",
                            factory.config_yaml(space.overrides(o.best_config), o.best_seed,
                                                config.get_int("tune.max_budget")) + o.best_yaml_note);
  }
  core::write_file_atomic(out + "/summary.json", summary.dump(2) + "\n");
  if (stop_signal() != 0) {
    std::fprintf(stderr, "stopped by signal %d; continue with: graybox tune --resume --out %s\n", stop_signal(), out.c_str());
    return 130;
  }
  return 0;
}

// A relative base_config is relative to the tune file; a missing one is an error naming both.
std::string base_config_of(const core::Config& config, const std::string& task) {
  const std::string base = config.get_string("base_config");
  if (base.empty()) {
    config.fail("base_config", "task " + task + " needs a base_config (a graybox " + (task == "rl" ? "train" : "fit") +
                                   " config)");
  }
  std::error_code ec;
  if (!fs::is_regular_file(base, ec)) {
    config.fail("base_config", "no such file: " + base + " (a relative base_config is relative to the tune file)");
  }
  return base;
}

}  // namespace

int population_tune(const core::Config& config, const Experiment& experiment, const core::SearchSpace& space,
                    const core::TrialFactory& factory, const TuneOptions& options);
pbt::PbtOptions population_options(const core::Config& config);
int finish_population(const std::string& out, const core::Config& config, const core::SearchSpace& space,
                      const core::TrialFactory& factory, const pbt::Population& population, double wall,
                      double decision_seconds, nlohmann::json extra, const TuneOptions& options);

// --storage: the experiment is a study in a shared store that `graybox worker` processes pull
// jobs from. The driver sets it up (its directory, the controller's first state), works in it
// like any worker unless --workers-only, and writes the run directory's files at the end; a
// worker (options.worker) only works.
int study_tune(const core::Config& config, const core::SearchSpace& space, const core::TrialFactory& factory,
               const controllers::StudyWorker::ControllerMaker& make_controller, std::int64_t max_budget, std::uint64_t seed,
               const TuneOptions& options, const std::string& path, const YAML::Node& root) {
  const store::StorageUrl url = store::parse_storage_url(options.storage, "--storage");
  auto study = store::open_shared_study(url, options.study, "--storage");
  std::unique_ptr<Experiment> experiment;
  std::string out = options.out;
  if (!options.worker) {
    experiment = std::make_unique<Experiment>(open_experiment(options, path, config, root));
    out = fs::absolute(experiment->out).lexically_normal().string();
    if (study->create_study(out, make_controller()->state().dump())) {
      if (!options.quiet) std::fprintf(stderr, "study %s set up in %s, directory %s\n", options.study.c_str(), study->location().c_str(), out.c_str());
    } else if (study->study_dir() != out) {
      throw core::UserError("--study " + options.study + ": " + study->location() + " holds this study for " + study->study_dir() +
                            ", not " + out + " (choose another --study, or --out " + study->study_dir() + ")");
    }
    if (options.workers_only) {
      if (!options.quiet) {
        std::printf("study %s is ready; start workers with: graybox worker --storage %s --study %s\n", options.study.c_str(),
                    options.storage.c_str(), options.study.c_str());
      }
      return 0;
    }
  }
  controllers::WorkerOptions wo;
  char host[256] = "";
  ::gethostname(host, sizeof(host) - 1);
  wo.name = std::string(host) + ":" + std::to_string(::getpid());
  wo.lease_seconds = options.lease_seconds;
  wo.max_trials = options.max_trials;
  wo.idle_exit = options.idle_exit;
  wo.quiet = options.quiet;
  controllers::StudyWorker worker(
      space, factory, make_controller, *study, [&]() -> std::unique_ptr<core::WorkQueue> { return store::open_shared_study(url, options.study, "--storage"); },
      out, seed, max_budget, wo);
  install_stop_handlers(options.worker ? "graybox worker --storage " + options.storage + " --study " + options.study
                                       : "graybox tune --resume --out " + out + " --storage " + options.storage + " --study " + options.study);
  const auto started = std::chrono::steady_clock::now();
  const int committed = worker.run([] { return stop_signal() != 0; });
  if (options.worker) {
    if (!options.quiet) {
      std::fprintf(stderr, "%s: %d results committed, %d refused; store: %d round trips, %.3f s (%.2f %% of %.1f s in jobs)\n",
                   wo.name.c_str(), committed, worker.refused(), worker.store_calls(), worker.store_seconds(),
                   worker.work_seconds() > 0 ? 100.0 * worker.store_seconds() / worker.work_seconds() : 0.0, worker.work_seconds());
    }
    return stop_signal() != 0 ? 130 : 0;
  }

  // The run directory's files, from the store: what every worker committed.
  const auto results = study->results();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const nlohmann::json where = {{"results", results.size()}, {"storage", study->location()}, {"study", options.study}};
  {
    const std::unique_ptr<controllers::Controller> controller = controllers::replay_study(make_controller, *study);
    if (const auto* population = dynamic_cast<const pbt::PbtController*>(controller.get())) {
      const int code = finish_population(out, config, space, factory, population->population(), wall, 0.0, where, options);
      if (!options.quiet || options.out.empty()) {
        std::printf("%zu results (this process committed %d), run directory: %s\n", results.size(), committed, out.c_str());
      }
      return code;
    }
  }
  std::ostringstream csv;
  csv << "trial,budget," << factory.metric() << ",loss,status,seconds,attempt";
  for (const auto& d : space.dims()) csv << ',' << csv_escape(d.name);
  csv << '\n';
  csv.precision(10);
  Outcome o;
  o.algorithm = make_controller()->name();
  std::int64_t top = 0;
  for (const auto& [job, result] : results) top = std::max(top, job.budget);
  const std::pair<core::WorkQueue::Job, core::WorkQueue::Result>* best = nullptr;
  for (const auto& entry : results) {
    const auto& [job, result] = entry;
    const core::Configuration values = core::values_from_json(nlohmann::json::parse(job.config));
    csv << job.trial << ',' << job.budget << ',' << result.score << ',' << result.loss << ',' << csv_escape(result.status) << ','
        << result.seconds << ',' << job.attempt;
    for (std::size_t i = 0; i < space.size(); ++i) csv << ',' << csv_escape(space.text(values, i));
    csv << '\n';
    o.trials = std::max(o.trials, static_cast<int>(job.trial) + 1);
    o.total_steps += result.steps;
    if (job.budget == top && std::isfinite(result.loss) && (!best || result.loss < best->second.loss)) best = &entry;
  }
  write_history(out, csv.str());
  o.total_units = o.total_steps / factory.unit();
  o.wall = wall;
  if (best) {
    o.has_best = true;
    o.best_score = best->second.score;
    o.best_trial = static_cast<int>(best->first.trial);
    o.best_config = core::values_from_json(nlohmann::json::parse(best->first.config));
    o.best_seed = core::derive_seed(seed, core::Stream::kTrial, static_cast<std::uint64_t>(best->first.trial));
  }
  const int code = finish_experiment(out, config, space, factory, o, where);
  if (!options.quiet || options.out.empty()) {
    std::printf("%zu results (this process committed %d), run directory: %s\n", results.size(), committed, out.c_str());
  }
  return code;
}

core::ConfigSchema tune_schema() {
  core::ConfigSchema s;
  s.add_int("seed", 1, "the experiment seed; every trial derives its own", 0, 9.0e15);
  s.add_string("task", "branin", "what a trial trains",
               {"rl", "supervised", "branin", "hartmann6", "branin_mf", "hartmann6_mf", "branin_timed"});
  s.add_path("base_config", "task rl / supervised: the train / fit config every trial starts from");
  s.add_string("tune.algorithm", "random", "the controller", kAlgorithms);
  s.add_string("tune.searcher", "random", "sha, hyperband, asha: how new configurations are drawn", {"random", "tpe"});
  s.add_int("tune.num_trials", 20, "random, gp, tpe, asha: trials to start", 1, 1e6);
  s.add_int("tune.grid_points", 5, "grid: values per numeric dimension", 1, 1000);
  s.add_int("tune.initial_points", 0, "gp, tpe: random start-up trials (0: 10 for tpe, max(5, d+1) for gp)", 0, 1e6);
  s.add_bool("tune.tpe_multivariate", true,
             "tpe (and tpe as sha/hyperband/asha's searcher): model the dimensions active in every trial jointly "
             "(Optuna's multivariate=True); false: one estimator per dimension (Optuna's default)");
  s.add_int("tune.max_budget", 81, "the largest budget of a trial, in units", 1, 9.0e15);
  s.add_int("tune.min_budget", 1, "sha, hyperband, bohb: the smallest budget; asha: the grace period", 1, 9.0e15);
  s.add_int("tune.eta", 3, "sha, hyperband, bohb: keep the best 1/eta at each rung", 2, 100);
  s.add_int("tune.reduction_factor", 4, "asha: promote the best 1/rf at each rung", 2, 100);
  s.add_int("tune.iterations", 1, "sha, hyperband, bohb: passes over the brackets", 1, 10000);
  s.add_int("tune.budget_unit", 0,
            "env steps (task rl) or minibatches (task supervised) per budget unit; 0: one rollout of the base config (rl), one epoch "
            "(supervised); synthetic tasks count single steps",
            0, 9.0e15);
  s.add_int("tune.parallel", 1, "trials trained side by side (each single-threaded)", 1, 1024);
  s.add_string("tune.metric", "final_return", "task rl: final_return (last 10 training episodes) or eval_return",
               {"final_return", "eval_return"});
  s.add_int("tune.population", 4, "pbt, pb2: members trained side by side", 2, 100000);
  s.add_int("tune.perturbation_interval", 1, "pbt, pb2: units of training between exploit/explore steps", 1, 9.0e15);
  s.add_int("tune.burn_in", 0, "pbt, pb2: units before a member may be replaced", 0, 9.0e15);
  s.add_float("tune.quantile_fraction", 0.25, "pbt, pb2: the bottom fraction copies the top fraction", 0.0, 0.5);
  s.add_float("tune.resample_probability", 0.25, "pbt, pb2: chance that explore redraws a value", 0.0, 1.0);
  s.add_float("tune.perturb_up", 1.2, "pbt: explore's upward factor", 1.0, 100.0);
  s.add_float("tune.perturb_down", 0.8, "pbt: explore's downward factor", 0.0, 1.0);
  s.add_bool("tune.synchronous", true, "pbt, pb2: perturb all members together (deterministic) or each as it finishes");
  s.add_int("tune.eval_episodes", 5, "task rl with eval_return: evaluation episodes per result", 1, 100000);
  s.allow_raw_section("search_space");
  return s;
}

int tune_command(const TuneOptions& options) {
  static const core::ConfigSchema schema = tune_schema();
  std::string path = options.config_path;
  if (options.resume) {
    if (options.out.empty()) throw core::UserError("--resume needs --out RUN_DIR (the experiment to continue)");
    if (!path.empty()) {
      throw core::UserError("--resume continues " + options.out + " with its own config.yaml, so CONFIG (" + path +
                            ") would be ignored: drop it, or change keys with --set");
    }
    path = options.out + "/config.yaml";
    if (!fs::is_regular_file(path)) throw core::UserError(options.out + ": not a tune run directory (no config.yaml)");
  }
  if (path.empty()) throw core::UserError("tune: a CONFIG file is required (or --resume --out RUN_DIR)");
  core::Config config = core::Config::load(path, schema, options.overrides);
  apply_parallel(options, config);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw core::ConfigError(path + ": malformed YAML: " + e.msg);
  }
  if (!root["search_space"]) throw core::ConfigError(path + ": missing 'search_space' (the dimensions to tune)");

  const std::string task = config.get_string("task");
  std::unique_ptr<core::TrialFactory> factory;
  if (task == "rl") {
    factory = make_rl_trial_factory(base_config_of(config, task), config.get_int("tune.budget_unit"),
                                    config.get_string("tune.metric"), static_cast<int>(config.get_int("tune.eval_episodes")));
  } else if (task == "supervised") {
    factory = make_supervised_trial_factory(base_config_of(config, task), config.get_int("tune.budget_unit"));
  } else {
    factory = tasks::make_synthetic_factory(task);
  }
  const core::SearchSpace space = core::SearchSpace::from_yaml(root["search_space"], path, &factory->schema());
  const std::uint64_t seed = static_cast<std::uint64_t>(config.get_int("seed"));
  const int parallel = static_cast<int>(config.get_int("tune.parallel"));

  if (config.get_string("tune.algorithm") == "pbt" || config.get_string("tune.algorithm") == "pb2") {
    if (!options.storage.empty()) {
      const pbt::PbtOptions po = population_options(config);
      const auto make = [&]() -> std::unique_ptr<controllers::Controller> {
        return std::make_unique<pbt::PbtController>(po, space, *factory, seed);
      };
      make();  // its options' errors before a study is set up
      return study_tune(config, space, *factory, make, po.max_budget, seed, options, path, root);
    }
    const Experiment experiment = open_experiment(options, path, config, root);
    return population_tune(config, experiment, space, *factory, options);
  }

  controllers::ControllerOptions co;
  co.algorithm = config.get_string("tune.algorithm");
  co.searcher = config.get_string("tune.searcher");
  co.num_trials = static_cast<int>(config.get_int("tune.num_trials"));
  co.grid_points = static_cast<int>(config.get_int("tune.grid_points"));
  co.initial_points = static_cast<int>(config.get_int("tune.initial_points"));
  co.tpe_multivariate = config.get_bool("tune.tpe_multivariate");
  co.max_budget = config.get_int("tune.max_budget");
  co.min_budget = config.get_int("tune.min_budget");
  co.eta = static_cast<int>(config.get_int("tune.eta"));
  co.reduction_factor = static_cast<int>(config.get_int("tune.reduction_factor"));
  co.iterations = static_cast<int>(config.get_int("tune.iterations"));
  if (co.min_budget > co.max_budget) config.fail("tune.min_budget", "must not exceed tune.max_budget");
  auto controller = controllers::make_controller(co, space, seed);
  if (!options.storage.empty()) {
    return study_tune(config, space, *factory, [&] { return controllers::make_controller(co, space, seed); }, co.max_budget,
                      seed, options, path, root);
  }

  const Experiment experiment = open_experiment(options, path, config, root);
  const std::string& out = experiment.out;
  store::SqliteStore store(out + "/store.sqlite");
  controllers::TuneRunner runner(*controller, *factory, store, out, seed, co.max_budget, parallel);
  if (options.resume && runner.resume() && !options.quiet) {
    std::fprintf(stderr, "resuming %s after %zu results\n", out.c_str(), runner.history().size());
  }
  if (!options.quiet) {
    std::fprintf(stderr, "tuning %s with %s (%zu dimensions) into %s\n", task.c_str(), controller->name().c_str(),
                 space.size(), out.c_str());
  }

  install_stop_handlers("graybox tune --resume --out " + out);
  const auto started = std::chrono::steady_clock::now();
  const auto trials_so_far = [&] {
    int n = 0;
    for (const auto& r : runner.history()) n = std::max(n, r.trial + 1);
    return n;
  };
  TuneProgress progress(!options.quiet, controller->planned_trials(), factory->metric());
  const auto report = [&] {
    const controllers::TrialResult* best = runner.best();
    progress.update(trials_so_far(), runner.history().size(), best ? best->score : std::nan(""), runner.total_units());
  };
  report();
  // Ctrl-C: every running trial stops at its next budget unit and keeps its checkpoint.
  runner.set_stop([] { return stop_signal() != 0; });
  runner.run([&](const std::vector<controllers::TrialResult>& batch) {
    report();
    if (!options.quiet) {
      progress.clear();
      const controllers::TrialResult* best = runner.best();
      for (const auto& r : batch) {
        std::fprintf(stderr, "trial %4d  budget %6lld  %s %-12.6g %s  best %.6g\n", r.trial,
                     static_cast<long long>(r.budget), factory->metric().c_str(), r.score,
                     r.status == "ok" ? "" : r.status.c_str(), best ? best->score : std::nan(""));
      }
    }
    return stop_signal() == 0;
  });

  // The history as CSV: one row per result, one column per dimension.
  std::ostringstream csv;
  csv << "trial,budget," << factory->metric() << ",loss,status,seconds";
  for (const auto& d : space.dims()) csv << ',' << csv_escape(d.name);
  csv << '\n';
  csv.precision(10);
  for (const auto& r : runner.history()) {
    csv << r.trial << ',' << r.budget << ',' << r.score << ',' << r.loss << ',' << csv_escape(r.status) << ',' << r.seconds;
    for (std::size_t i = 0; i < space.size(); ++i) csv << ',' << csv_escape(space.text(r.config, i));
    csv << '\n';
  }
  write_history(out, csv.str());

  Outcome o;
  o.algorithm = controller->name();
  o.trials = trials_so_far();
  o.total_steps = runner.total_steps();
  o.total_units = runner.total_units();
  o.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  o.controller_seconds = runner.controller_seconds();
  if (const controllers::TrialResult* best = runner.best()) {
    o.has_best = true;
    o.best_score = best->score;
    o.best_trial = best->trial;
    o.best_config = best->config;
    o.best_seed = runner.trial_seed(best->trial);
  }
  const int code = finish_experiment(out, config, space, *factory, o, {{"results", runner.history().size()}});

  if (!options.quiet) {
    // The ten best results at the top budget.
    std::vector<const controllers::TrialResult*> top;
    std::int64_t max_budget = 0;
    for (const auto& r : runner.history()) max_budget = std::max(max_budget, r.budget);
    for (const auto& r : runner.history()) {
      if (r.budget == max_budget) top.push_back(&r);
    }
    std::stable_sort(top.begin(), top.end(), [](const auto* a, const auto* b) { return a->loss < b->loss; });
    std::printf("%-6s %-8s %-14s %s\n", "trial", "budget", factory->metric().c_str(), "configuration");
    for (std::size_t k = 0; k < top.size() && k < 10; ++k) {
      std::printf("%-6d %-8lld %-14.6g %s\n", top[k]->trial, static_cast<long long>(top[k]->budget), top[k]->score,
                  space.to_json(top[k]->config).c_str());
    }
  }
  if (!options.quiet || options.out.empty()) {
    std::printf("%zu results, total budget %lld, controller time %.3f s of %.1f s; run directory: %s\n",
                runner.history().size(), static_cast<long long>(o.total_steps), o.controller_seconds, o.wall, out.c_str());
  }
  return code;
}

pbt::PbtOptions population_options(const core::Config& config) {
  pbt::PbtOptions po;
  po.algorithm = config.get_string("tune.algorithm");
  po.population = static_cast<int>(config.get_int("tune.population"));
  po.interval = config.get_int("tune.perturbation_interval");
  po.burn_in = config.get_int("tune.burn_in");
  po.max_budget = config.get_int("tune.max_budget");
  po.quantile_fraction = config.get_float("tune.quantile_fraction");
  po.explore.resample_probability = config.get_float("tune.resample_probability");
  po.explore.perturb_up = config.get_float("tune.perturb_up");
  po.explore.perturb_down = config.get_float("tune.perturb_down");
  po.synchronous = config.get_bool("tune.synchronous");
  po.parallel = static_cast<int>(config.get_int("tune.parallel"));
  return po;
}

// tune.algorithm pbt or pb2: a population, not a sequence of trials.
int population_tune(const core::Config& config, const Experiment& experiment, const core::SearchSpace& space,
                    const core::TrialFactory& factory, const TuneOptions& options) {
  const pbt::PbtOptions po = population_options(config);
  const std::uint64_t seed = static_cast<std::uint64_t>(config.get_int("seed"));

  const std::string& out = experiment.out;
  store::SqliteStore store(out + "/store.sqlite");
  pbt::PopulationRunner runner(po, space, factory, store, out, seed);
  if (options.resume && runner.resume() && !options.quiet) {
    std::fprintf(stderr, "resuming %s after round %d\n", out.c_str(), runner.rounds());
  }
  if (!options.quiet) {
    std::fprintf(stderr, "tuning %s with %s: %d members, %zu dimensions, perturbing every %lld units, into %s\n",
                 config.get_string("task").c_str(), po.algorithm.c_str(), po.population, space.size(),
                 static_cast<long long>(po.interval), out.c_str());
  }
  install_stop_handlers("graybox tune --resume --out " + out);
  const auto started = std::chrono::steady_clock::now();
  runner.run([&] {
    if (!options.quiet && (po.synchronous || runner.rounds() % po.population == 0)) {
      std::fprintf(stderr, "round %4d  steps", runner.rounds());
      for (int i = 0; i < runner.size(); ++i) std::fprintf(stderr, " %lld", static_cast<long long>(runner.steps(i)));
      std::fprintf(stderr, "  %s", factory.metric().c_str());
      for (int i = 0; i < runner.size(); ++i) std::fprintf(stderr, " %.4g", runner.score(i));
      std::fprintf(stderr, "\n");
    }
    return stop_signal() == 0;
  });
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  nlohmann::json extra;
  extra["train_seconds"] = runner.train_seconds();
  extra["exploit_seconds"] = runner.exploit_seconds();
  const int code = finish_population(out, config, space, factory, runner.population(), wall, runner.decision_seconds(), extra, options);
  if (!options.quiet || options.out.empty()) {
    std::printf("exploit %.3f s, decisions %.3f s of %.1f s\n", runner.exploit_seconds(), runner.decision_seconds(), wall);
  }
  return code;
}

// A population's run directory files, in one process or from a study's log: history.csv (one
// row per member and interval), the lineage exports, summary.json and best.yaml.
int finish_population(const std::string& out, const core::Config& config, const core::SearchSpace& space,
                      const core::TrialFactory& factory, const pbt::Population& population, double wall,
                      double decision_seconds, nlohmann::json extra, const TuneOptions& options) {
  const std::vector<pbt::Segment> chain = pbt::export_lineage(out, population, factory);
  std::ostringstream csv;
  csv << "member,step," << factory.metric() << ",config\n";
  csv.precision(10);
  for (const auto& h : population.history()) csv << h.member << ',' << h.step << ',' << h.score << ',' << csv_escape(h.config.dump()) << '\n';
  write_history(out, csv.str());

  const int best = population.best();
  Outcome o;
  o.algorithm = population.options().algorithm;
  o.trials = population.size();
  o.total_steps = population.total_steps();
  o.total_units = population.total_steps() / factory.unit();
  o.wall = wall;
  o.controller_seconds = decision_seconds;
  if (best >= 0) {
    o.has_best = true;
    o.best_score = population.member(best).score;
    o.best_trial = best;
    o.best_config = population.member(best).config;
    o.best_seed = population.member_seed(best);
    o.best_yaml_note = "# the best member's whole schedule: replay.file: schedules/best.yaml\n";
  }
  std::size_t exploits = 0, rollbacks = 0;
  for (const auto& e : population.lineage()) {
    exploits += e.kind == "exploit" ? 1 : 0;
    rollbacks += e.kind == "rollback" ? 1 : 0;
  }
  extra["population"] = population.size();
  extra["rounds"] = population.rounds();
  extra["exploits"] = exploits;
  extra["rollbacks"] = rollbacks;
  extra["lineage"] = {"lineage.json", "lineage.dot"};
  extra["schedule"] = "schedules/best.yaml";
  nlohmann::json scores = nlohmann::json::array();
  for (int i = 0; i < population.size(); ++i) {
    const double s = population.member(i).score;
    scores.push_back(std::isfinite(s) ? nlohmann::json(s) : nlohmann::json());
  }
  extra["member_scores"] = scores;
  if (best >= 0) extra["best_member"] = best;
  const int code = finish_experiment(out, config, space, factory, o, extra);
  if (!options.quiet) {
    std::printf("%-7s %-10s %-14s %s\n", "member", "steps", factory.metric().c_str(), "configuration");
    for (int i = 0; i < population.size(); ++i) {
      std::printf("%-7d %-10lld %-14.6g %s%s\n", i, static_cast<long long>(population.member(i).steps), population.member(i).score,
                  space.to_json(population.member(i).config).c_str(), i == best ? "  (best)" : "");
    }
  }
  if (!options.quiet || options.out.empty()) {
    std::printf("best member %d: %zu stretches in its ancestry; total budget %lld; run directory: %s\n", best, chain.size(),
                static_cast<long long>(population.total_steps()), out.c_str());
  }
  return code;
}

}  // namespace graybox::apps
