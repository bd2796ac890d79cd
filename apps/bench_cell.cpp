#include "apps/bench_cell.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "apps/bench_meta.hpp"
#include "apps/commands.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/yaml.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace graybox::apps {
namespace {

bool is_fit_config(const std::string& path) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    return root.IsMap() && root["data"];
  } catch (const YAML::Exception& e) {
    throw core::ConfigError(path + ": malformed YAML: " + e.msg);
  }
}

std::string self_executable() { return fs::read_symlink("/proc/self/exe").string(); }

}  // namespace

// The child's own process group: the terminal's Ctrl-C reaches only the benchmark, which stops
// each child once.
int run_graybox_child(const std::vector<std::string>& args, const std::string& out, const std::string& err,
                      const ChildWatcher& watch, bool append_out) {
  std::vector<char*> argv;
  const std::string exe = self_executable();
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw core::UserError("cannot start a graybox process: fork failed");
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(130);
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | (append_out ? O_APPEND : O_TRUNC), 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (o < 0 || e < 0) ::_exit(127);
    ::dup2(o, STDOUT_FILENO);
    ::dup2(e, STDERR_FILENO);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  watch(pid);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  watch(-pid);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

void wait_until_free(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir + "/lock", ec)) return;
  for (int tries = 0;; ++tries) {
    try {
      const core::DirLock lock(dir);
      return;
    } catch (const core::UserError&) {
      if (tries >= 1500) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

bool is_stop_code(int code) { return code == 130 || code == 128 + SIGTERM || code == 128 + SIGINT; }

bool has_checkpoint(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir + "/checkpoints", ec)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("step_", 0) == 0) return true;
  }
  return false;
}

json read_run_summary(const std::string& dir) {
  try {
    return json::parse(core::read_file(dir + "/summary.json"));
  } catch (const std::exception&) {
    return json::object();
  }
}

int run_to_end(const std::string& dir, const std::function<bool()>& can_resume,
               const std::function<std::vector<std::string>(bool resume)>& argv, const std::string& log, const ChildWatcher& watch) {
  wait_until_free(dir);
  const std::string status = read_run_summary(dir).value("status", "");
  if (status == "finished" || status == "diverged") return 0;
  std::error_code ec;
  const bool resumable = fs::exists(dir + "/config.yaml", ec) && can_resume();
  if (!resumable) fs::remove_all(dir, ec);  // killed before anything it could continue from
  fs::create_directories(fs::path(dir).parent_path());
  return run_graybox_child(argv(resumable), log, log, watch, true);
}

namespace {

double number(const json& j, const std::string& key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}

// The cell's command line: a new run, or the continuation of the one a killed benchmark left.
std::vector<std::string> cell_argv(const BenchPlan& plan, const std::string& bench_dir, const Cell& cell, bool resume) {
  const BenchEntry& method = plan.methods[static_cast<std::size_t>(cell.method)];
  const std::string task_file = task_config_path(bench_dir, plan.tasks[static_cast<std::size_t>(cell.task)].name);
  const bool control = method.command == "control";  // a fit run that deploys the meta-trained policy
  std::vector<std::string> args = {control ? "fit" : method.command};
  if (resume) {
    args.insert(args.end(), {"--resume", "--out", cell.dir, "--quiet"});
    return args;
  }
  args.push_back(method.command == "tune" ? method.config : task_file);
  const auto set = [&](const std::string& assignment) { args.insert(args.end(), {"--set", assignment}); };
  if (method.command == "tune") set("base_config=" + task_file);
  set("seed=" + std::to_string(cell.seed));
  if (control) set("controller.policy=" + meta_policy_path(bench_dir, method.name));
  for (const auto& s : control ? method.deploy_sets : method.sets) set(s);
  args.insert(args.end(), {"--out", cell.dir, "--quiet"});
  return args;
}

// The budget spent and the summary's score of a finished run, by its command. With score eval,
// a train run's score is its final deterministic evaluation (eval.episodes) and a fit run's its
// test accuracy, both in the summary; a tune run is evaluated by graybox eval afterwards.
void read_cell(const std::string& command, const std::string& score, const json& summary, CellResult& r) {
  if (command == "train") {
    r.spent = summary.value("total_steps", std::int64_t{0});
    r.score = number(summary, score == "eval" ? "eval_return_mean" : "final_return");
  } else if (command == "fit" || command == "control") {  // control: the deployment (its meta-training is apart)
    r.spent = summary.value("steps", std::int64_t{0});
    r.score = number(summary, "test_accuracy");
  } else {
    r.spent = summary.value("total_budget", std::int64_t{0});
    r.score = number(summary, "best_score");
  }
  r.wall_seconds = number(summary, "wall_seconds");
}

// score: eval: `graybox eval` of the run (a tune run: its best trial or member).
void evaluate_cell(const BenchPlan& plan, const Cell& cell, const ChildWatcher& watch, CellResult& r) {
  const std::string out = cell.log + ".eval.json";
  const int code = run_graybox_child({"eval", cell.dir, "--json", "--episodes", std::to_string(plan.eval_episodes)}, out, cell.log,
                             watch, false);
  if (code != 0) {
    r.status = is_stop_code(code) ? "stopped" : "failed";
    r.message = "graybox eval exited with " + std::to_string(code) + " (see " + cell.log + ")";
    return;
  }
  try {
    const json j = json::parse(core::read_file(out));
    r.score = j.contains("return_mean") ? number(j, "return_mean") : number(j, "test_accuracy");
  } catch (const std::exception& e) {
    r.status = "failed";
    r.message = out + ": unreadable evaluation: " + e.what();
  }
}

// A control method on a task: the task is a fit config whose schedule (with deploy_set) leaves the
// learning rate to the policy (fix it with deploy_set: [schedule.type=constant, ...]), and the
// meta-training config (with set) is a valid control train one.
void check_control_method(const std::string& where, const BenchEntry& method, const BenchEntry& task, const std::string& task_file,
                          bool is_fit) {
  static const core::ConfigSchema fit = fit_schema(), control = control_train_schema();
  if (!is_fit) {
    throw core::ConfigError(where + "a control method deploys an lr/wd policy on a supervised (fit) task, not on the train config " +
                            task.config);
  }
  try {
    check_policy_can_steer(core::Config::load(task_file, fit, method.deploy_sets));
    core::Config::load(method.config, control, method.sets);
  } catch (const core::ConfigError& e) {
    throw core::ConfigError(where + e.what());
  }
}

}  // namespace

std::string task_config_path(const std::string& bench_dir, const std::string& task) { return bench_dir + "/tasks/" + task + ".yaml"; }

std::vector<Cell> plan_cells(const BenchPlan& plan, const std::string& bench_dir) {
  std::vector<Cell> cells;
  for (const auto seed : plan.seeds) {
    for (std::size_t t = 0; t < plan.tasks.size(); ++t) {
      for (std::size_t m = 0; m < plan.methods.size(); ++m) {
        Cell c;
        c.index = static_cast<int>(cells.size());
        c.task = static_cast<int>(t);
        c.method = static_cast<int>(m);
        c.seed = seed;
        const std::string name = plan.tasks[t].name + "/" + plan.methods[m].name + "/seed" + std::to_string(seed);
        c.dir = bench_dir + "/cells/" + name;
        c.log = bench_dir + "/logs/" + plan.tasks[t].name + "." + plan.methods[m].name + ".seed" + std::to_string(seed) + ".log";
        cells.push_back(c);
      }
    }
  }
  return cells;
}

void prepare_tasks(const BenchPlan& plan, const std::string& bench_dir) {
  static const core::ConfigSchema train = train_schema(), fit = fit_schema(), tune = tune_schema();
  fs::create_directories(bench_dir + "/tasks");
  fs::create_directories(bench_dir + "/logs");
  for (const auto& task : plan.tasks) {
    const bool is_fit = is_fit_config(task.config);
    const core::Config config = core::Config::load(task.config, is_fit ? fit : train, task.sets);
    const std::string path = task_config_path(bench_dir, task.name);
    core::write_file_atomic(path, config.to_yaml());
    for (const auto& method : plan.methods) {
      const std::string where = plan.source + ": methods." + method.name + " on tasks." + task.name + ": ";
      if (method.command == "control") {
        check_control_method(where, method, task, path, is_fit);
        continue;
      }
      if (method.command == "tune") {
        std::vector<std::string> sets = {"base_config=" + path};
        sets.insert(sets.end(), method.sets.begin(), method.sets.end());
        const core::Config t = core::Config::load(method.config, tune, sets);
        const std::string kind = t.get_string("task");
        if (kind != (is_fit ? "supervised" : "rl")) {
          throw core::ConfigError(where + method.config + ": task " + kind + " cannot tune the " + (is_fit ? "fit" : "train") +
                                  " config " + task.config);
        }
        continue;
      }
      if (method.command != (is_fit ? "fit" : "train")) {
        throw core::ConfigError(where + "a " + method.command + " method cannot run the " + (is_fit ? "fit" : "train") +
                                " config " + task.config);
      }
      try {
        core::Config::load(path, is_fit ? fit : train, method.sets);
      } catch (const core::ConfigError& e) {
        throw core::ConfigError(where + e.what());
      }
    }
  }
}

CellResult run_cell(const BenchPlan& plan, const std::string& bench_dir, const Cell& cell, bool restart,
                    const ChildWatcher& watch) {
  CellResult r;
  const std::string& command = plan.methods[static_cast<std::size_t>(cell.method)].command;
  std::error_code ec;
  if (restart) {
    wait_until_free(cell.dir);
    fs::remove_all(cell.dir, ec);
  }
  const auto can_resume = [&] { return command == "tune" ? fs::exists(cell.dir + "/store.sqlite", ec) : has_checkpoint(cell.dir); };
  const auto argv = [&](bool resume) { return cell_argv(plan, bench_dir, cell, resume); };
  const int code = run_to_end(cell.dir, can_resume, argv, cell.log, watch);
  if (is_stop_code(code)) {
    r.status = "stopped";
    return r;
  }
  if (code != 0) {
    r.status = "failed";
    r.message = "graybox " + command + " exited with " + std::to_string(code) + " (see " + cell.log + ")";
    return r;
  }
  r.status = "done";
  read_cell(command, plan.score, read_run_summary(cell.dir), r);
  if (plan.score == "eval" && command == "tune") evaluate_cell(plan, cell, watch, r);
  return r;
}

}  // namespace graybox::apps
