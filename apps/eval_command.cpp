#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "apps/commands.hpp"
#include "apps/run_dir.hpp"
#include "core/config.hpp"
#include "optim/trainer.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "envs/mujoco_env.hpp"
#include "envs/render.hpp"
#include "core/yaml.hpp"
#include "tasks/rl_task.hpp"
#include "tasks/supervised_task.hpp"

namespace fs = std::filesystem;

namespace graybox::apps {
namespace {

// A fit run, or the best trial of a supervised tune run: its validation and test figures.
int evaluate_supervised(const core::Config& config, const std::string& checkpoint, const EvalOptions& options,
                        nlohmann::json out) {
  optim::set_torch_threads(static_cast<int>(config.get_int("torch_threads")));
  tasks::SupervisedTask task(tasks::supervised_task_config(config));
  task.load(checkpoint);
  const optim::EvalMetrics val = task.evaluate_split("val"), test = task.evaluate_split("test");
  if (options.json) {
    out["checkpoint"] = checkpoint;
    out["steps"] = task.steps_done();
    out["val_loss"] = val.loss;
    out["val_accuracy"] = val.accuracy;
    out["test_loss"] = test.loss;
    out["test_accuracy"] = test.accuracy;
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s, %s at step %lld: test accuracy %.4f, test loss %.4f (validation %.4f, %.4f)\n",
                config.get_string("model.type").c_str(), config.get_string("data.name").c_str(),
                static_cast<long long>(task.steps_done()), test.accuracy, test.loss, val.accuracy, val.loss);
  }
  return 0;
}

// A train run, or the best trial of an RL tune run: deterministic episodes (optionally filmed).
// Returns the result; `out` gets the JSON fields.
core::EvalResult evaluate_rl(const core::Config& config, const std::string& checkpoint, const EvalOptions& options,
                             nlohmann::json& out, std::int64_t& steps, std::int64_t& frames) {
  optim::set_torch_threads(static_cast<int>(config.get_int("torch_threads")));
  tasks::RlTask task(tasks::rl_task_config(config));
  task.load(checkpoint);
  steps = task.steps_done();

  // --video: render every state of the evaluation episodes offscreen and pipe it into ffmpeg.
  if (!options.video.empty() && !envs::render_available()) {
    throw core::UserError("--video: this graybox was built without offscreen rendering (EGL); install "
                          "libegl-dev libegl-mesa0 libgl1-mesa-dri ffmpeg and rebuild");
  }
  std::unique_ptr<envs::Renderer> renderer;
  std::unique_ptr<envs::VideoWriter> video;
  std::vector<unsigned char> frame;
  tasks::RlTask::EvalObserver observer;
  if (!options.video.empty()) {
    observer = [&](const envs::Env& env, int) {
      const auto* mujoco_env = dynamic_cast<const envs::MujocoEnv*>(&env);
      if (mujoco_env == nullptr) return;
      try {
        if (!renderer) {
          renderer = std::make_unique<envs::Renderer>(mujoco_env->model(), 640, 480);
          video = std::make_unique<envs::VideoWriter>(options.video, renderer->width(), renderer->height(),
                                                      1.0 / env.spec().dt);
        }
        renderer->render(mujoco_env->data(), frame);
        video->write(frame);
      } catch (const envs::EnvError& e) {
        throw core::UserError(std::string("--video: ") + e.what());
      }
    };
  }
  const core::EvalResult eval = task.evaluate(options.episodes, observer);
  frames = 0;
  if (video) {
    try {
      video->close();
    } catch (const envs::EnvError& e) {
      throw core::UserError(std::string("--video: ") + e.what());
    }
    frames = video->frames();
    out["video"] = options.video;
  }
  out["checkpoint"] = checkpoint;
  out["steps"] = steps;
  out["episodes"] = options.episodes;
  out["return_mean"] = eval.mean;
  out["return_std"] = eval.std;
  out["returns"] = eval.returns;
  out["lengths"] = eval.lengths;
  return eval;
}

void print_rl(const core::Config& config, const EvalOptions& options, const nlohmann::json& out,
              const core::EvalResult& eval, std::int64_t steps, std::int64_t frames) {
  if (options.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("%s at step %lld: return %.2f ± %.2f over %d episodes (deterministic)\n",
              config.get_string("env.id").c_str(), static_cast<long long>(steps), eval.mean, eval.std, options.episodes);
  if (frames > 0) std::printf("video: %s (%lld frames)\n", options.video.c_str(), static_cast<long long>(frames));
}

// The newest checkpoint folder of a population member (members/<id>/<tag>, the last written).
std::string member_checkpoint(const std::string& run_dir, int member) {
  std::string newest;
  fs::file_time_type newest_time{};
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(run_dir + "/members/" + std::to_string(member), ec)) {
    if (!entry.is_directory() || !fs::exists(entry.path() / "state.json")) continue;
    const auto time = fs::last_write_time(entry.path() / "state.json", ec);
    if (newest.empty() || time > newest_time) newest = entry.path().string(), newest_time = time;
  }
  return newest;
}

// A tune or PBT run: the best trial or member, evaluated as its task evaluates.
int evaluate_tune_run(const EvalOptions& options) {
  const std::string dir = options.run_dir;
  nlohmann::json summary;
  try {
    summary = nlohmann::json::parse(core::read_file(dir + "/summary.json"));
  } catch (const std::exception&) {
    throw core::UserError(dir + ": a tune run directory without a readable summary.json (still running, or killed "
                          "before its end? graybox tune --resume --out " + dir + " finishes it)");
  }
  const std::string task = summary.value("task", "");
  const bool population = summary.contains("best_member");
  if (!summary.contains("best_trial") || !fs::exists(dir + "/best.yaml")) {
    throw core::UserError(dir + ": the experiment has no best trial to evaluate (no trial finished)");
  }
  const int best = summary["best_trial"].get<int>();
  if (task != "rl" && task != "supervised") {
    throw core::UserError(dir + ": a tune run of the synthetic objective " + task + " has nothing to evaluate; its best " +
                          "value is summary.json's best_score (" + summary["best_score"].dump() + ")");
  }
  const std::string checkpoint = population ? member_checkpoint(dir, best) : dir + "/trials/" + std::to_string(best);
  if (checkpoint.empty() || !fs::is_directory(checkpoint)) {
    throw core::UserError(dir + ": no checkpoint of the best " + (population ? "member" : "trial") + " (" +
                          std::to_string(best) + ")");
  }
  if (!options.json) {
    std::printf("%s %d of %s (score %s):\n", population ? "member" : "trial", best, dir.c_str(),
                summary["best_score"].dump().c_str());
  }
  nlohmann::json out{{"run_dir", dir}, {population ? "member" : "trial", best}, {"best_score", summary["best_score"]}};
  if (task == "supervised") {
    static const core::ConfigSchema schema = fit_schema();
    return evaluate_supervised(core::Config::load(dir + "/best.yaml", schema), checkpoint, options, out);
  }
  static const core::ConfigSchema schema = train_schema();
  const core::Config config = core::Config::load(dir + "/best.yaml", schema);
  std::int64_t steps = 0, frames = 0;
  const core::EvalResult eval = evaluate_rl(config, checkpoint, options, out, steps, frames);
  print_rl(config, options, out, eval, steps, frames);
  return 0;
}

}  // namespace

int eval_command(const EvalOptions& options) {
  const std::string config_path = options.run_dir + "/config.yaml";
  if (!fs::is_regular_file(config_path)) {
    throw core::UserError(options.run_dir + ": not a run directory (no config.yaml)");
  }
  if (options.episodes < 1) throw core::UserError("--episodes must be at least 1");
  // Which command made the run: a tune file has a search space, a fit config a data set.
  YAML::Node root;
  try {
    root = YAML::LoadFile(config_path);
  } catch (const YAML::Exception& e) {
    throw core::ConfigError(config_path + ": malformed YAML: " + e.msg);
  }
  if (root.IsMap() && root["search_space"]) {
    const core::DirLock lock(options.run_dir);  // one process at a time
    return evaluate_tune_run(options);
  }
  RunDir run(options.run_dir);  // one process at a time
  const bool fit = root.IsMap() && root["data"];
  static const core::ConfigSchema train_keys = train_schema();
  static const core::ConfigSchema fit_keys = fit_schema();
  const core::Config config = core::Config::load(config_path, fit ? fit_keys : train_keys);
  const std::string checkpoint = run.latest_checkpoint();
  if (checkpoint.empty()) throw core::UserError(options.run_dir + ": no checkpoint to evaluate");
  if (fit) return evaluate_supervised(config, checkpoint, options, {{"run_dir", options.run_dir}});

  nlohmann::json out{{"run_dir", options.run_dir}};
  std::int64_t steps = 0, frames = 0;
  const core::EvalResult eval = evaluate_rl(config, checkpoint, options, out, steps, frames);
  nlohmann::json summary = run.read_summary();
  summary["eval_return_mean"] = eval.mean;
  summary["eval_return_std"] = eval.std;
  summary["eval_episodes"] = options.episodes;
  run.write_summary(summary);
  print_rl(config, options, out, eval, steps, frames);
  return 0;
}

}  // namespace graybox::apps
