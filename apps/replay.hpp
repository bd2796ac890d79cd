// Replay of a hyperparameter schedule (`replay.file`, e.g. a PBT run's schedules/best.yaml) in a
// single run: before each update the trainable's hyperparameters are set to the schedule's
// values at the current step, and every change is recorded in the run store.
#pragma once

#include <cstdint>
#include <string>

#include "core/config.hpp"
#include "core/store.hpp"
#include "core/trainable.hpp"
#include "pbt/lineage.hpp"

namespace graybox::apps {

class Replay {
 public:
  // Reads config's `replay.file` ("" : no replay). A bad file, or a name the trainable does not
  // have, is a ConfigError naming replay.file.
  Replay(const core::Config& config, const core::Trainable& trainable);
  bool active() const { return !schedules_.points.empty(); }
  // Sets the values at the trainable's current step.
  void apply(core::Trainable& trainable, core::Store& store) const;
  // The next step after `step` at which a value changes (INT64_MAX if none), so that training
  // chunks can end exactly there.
  std::int64_t next_change(std::int64_t step) const;

 private:
  pbt::HyperparameterSchedules schedules_;
};

}  // namespace graybox::apps
