#include "apps/replay.hpp"

#include <climits>
#include <cmath>

#include "core/error.hpp"

namespace graybox::apps {

Replay::Replay(const core::Config& config, const core::Trainable& trainable) {
  const std::string file = config.get_string("replay.file");
  if (file.empty()) return;
  try {
    schedules_ = pbt::read_schedules(file);
  } catch (const core::UserError& e) {
    config.fail("replay.file", e.what());
  }
  for (const auto& [name, points] : schedules_.points) {
    if (!trainable.hyperparameters().has(name)) {
      config.fail("replay.file", file + ": '" + name + "' is not a hyperparameter of this task");
    }
  }
}

void Replay::apply(core::Trainable& trainable, core::Store& store) const {
  if (!active()) return;
  core::Hyperparameters hp = trainable.hyperparameters();
  bool changed = false;
  for (const auto& [name, value] : schedules_.at(static_cast<double>(trainable.steps_done()))) {
    if (hp.get(name) != value) hp.set(name, value), changed = true;
  }
  if (!changed) return;
  trainable.set_hyperparameters(hp);
  for (const auto& [name, value] : hp.values()) store.add_hyperparameter(0, trainable.steps_done(), name, value);
}

std::int64_t Replay::next_change(std::int64_t step) const {
  std::int64_t next = INT64_MAX;
  for (const auto& [name, points] : schedules_.points) {
    for (const auto& [at, value] : points) {
      const auto t = static_cast<std::int64_t>(std::ceil(at));
      if (t > step) {
        next = std::min(next, t);
        break;
      }
    }
  }
  return next;
}

}  // namespace graybox::apps
