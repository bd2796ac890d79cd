// One epoch of configs/fit/fashion_mlp.yaml in graybox (the SupervisedTask path `graybox fit`
// runs: schedule, controllable AdamW, per-step metrics) beside the same MLP, batch size and
// optimizer in Python PyTorch (bench/supervised_epoch.py, Debian's python3-torch), and the
// cost of the controllable optimizer + schedule per step against the step itself.
// Usage: bench_supervised_epoch [CONFIG] [--no-python]   (run from the repository root)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/timing.hpp"
#include "optim/schedule.hpp"
#include "tasks/supervised_task.hpp"

namespace {

using namespace graybox;
using core::Clock;
using core::seconds_since;

double python_epoch_seconds() {
  std::FILE* pipe = popen("/usr/bin/python3 bench/supervised_epoch.py 1 2>&1", "r");
  if (!pipe) return -1;
  char line[512];
  double seconds = -1;
  while (std::fgets(line, sizeof line, pipe)) {
    std::fputs(line, stdout);
    if (std::strncmp(line, "epoch_seconds=", 14) == 0) seconds = std::atof(line + 14);
  }
  pclose(pipe);
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = "configs/fit/fashion_mlp.yaml";
  bool python = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-python") == 0) python = false;
    else config_path = argv[i];
  }
  core::ConfigSchema schema;
  tasks::add_supervised_schema(schema);
  const core::Config config = core::Config::load(config_path, schema);
  optim::set_torch_threads(static_cast<int>(config.get_int("torch_threads")));
  tasks::SupervisedTask task(tasks::supervised_task_config(config));
  core::NullSink sink;

  task.train(20, sink);  // warm up allocators and caches
  const std::int64_t steps = task.steps_per_epoch();
  auto start = Clock::now();
  task.train(steps, sink);
  const double graybox_epoch = seconds_since(start);
  const double step_us = graybox_epoch / static_cast<double>(steps) * 1e6;

  // The per-step work of control: the schedule's value and pushing five values into the
  // optimizer's group options (what SupervisedTask does before every minibatch).
  const auto schedule = optim::make_schedule(tasks::supervised_task_config(config).schedule);
  optim::OptimizerSettings s = task.trainer().settings();
  const int reps = 200000;
  double sum = 0;
  start = Clock::now();
  for (int i = 0; i < reps; ++i) {
    const double m = schedule->value(i * 1e-3);
    s.lr = 1e-3 * m;
    s.weight_decay = 7.6e-4 * m;
    task.trainer().set_settings(s);
    sum += m;
  }
  const double control_us = seconds_since(start) / reps * 1e6;

  std::printf("graybox epoch: %.3f s (%lld minibatches of %s, %.0f us per step)\n", graybox_epoch,
              static_cast<long long>(steps), config_path.c_str(), step_us);
  std::printf("control overhead (schedule + set 5 optimizer values): %.3f us per step = %.3f %% of a step%s\n",
              control_us, 100.0 * control_us / step_us, sum < 0 ? " " : "");
  if (python) {
    const double py = python_epoch_seconds();
    if (py > 0) {
      std::printf("\n| implementation | epoch (s) |\n|---|---|\n| graybox (C++) | %.3f |\n| PyTorch (Python) | %.3f |\n",
                  graybox_epoch, py);
      std::printf("ratio PyTorch / graybox: %.3f (> 1: graybox is faster)\n", py / graybox_epoch);
    } else {
      std::printf("PyTorch comparison skipped: /usr/bin/python3 bench/supervised_epoch.py failed (python3-torch installed?)\n");
    }
  }
  return 0;
}
