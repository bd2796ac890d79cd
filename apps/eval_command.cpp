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
#include "tasks/rl_task.hpp"

namespace fs = std::filesystem;

namespace graybox::apps {

int eval_command(const EvalOptions& options) {
  static const core::ConfigSchema schema = train_schema();
  const std::string config_path = options.run_dir + "/config.yaml";
  if (!fs::exists(config_path)) {
    throw core::UserError(options.run_dir + ": not a run directory (no config.yaml)");
  }
  if (options.episodes < 1) throw core::UserError("--episodes must be at least 1");
  const core::Config config = core::Config::load(config_path, schema);
  optim::set_torch_threads(static_cast<int>(config.get_int("torch_threads")));
  RunDir run(options.run_dir);
  const std::string checkpoint = run.latest_checkpoint();
  if (checkpoint.empty()) throw core::UserError(options.run_dir + ": no checkpoint to evaluate");

  tasks::RlTask task(tasks::rl_task_config(config));
  task.load(checkpoint);

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
  if (video) {
    try {
      video->close();
    } catch (const envs::EnvError& e) {
      throw core::UserError(std::string("--video: ") + e.what());
    }
  }

  nlohmann::json summary = run.read_summary();
  summary["eval_return_mean"] = eval.mean;
  summary["eval_return_std"] = eval.std;
  summary["eval_episodes"] = options.episodes;
  run.write_summary(summary);

  if (options.json) {
    nlohmann::json out;
    out["run_dir"] = options.run_dir;
    out["checkpoint"] = checkpoint;
    out["steps"] = task.steps_done();
    out["episodes"] = options.episodes;
    out["return_mean"] = eval.mean;
    out["return_std"] = eval.std;
    out["returns"] = eval.returns;
    out["lengths"] = eval.lengths;
    if (video) out["video"] = options.video;
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s at step %lld: return %.2f ± %.2f over %d episodes (deterministic)\n",
                config.get_string("env.id").c_str(), static_cast<long long>(task.steps_done()),
                eval.mean, eval.std, options.episodes);
    if (video) {
      std::printf("video: %s (%lld frames)\n", options.video.c_str(), static_cast<long long>(video->frames()));
    }
  }
  return 0;
}

}  // namespace graybox::apps
