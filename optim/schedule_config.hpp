// A schedule as config keys under a prefix (e.g. "schedule." in fit configs,
// "agent.lr_schedule." in train configs): the same keys, docs and checks everywhere a schedule
// is accepted.
#pragma once

#include <string>

#include "core/config.hpp"
#include "optim/schedule.hpp"

namespace graybox::optim {

// Adds PREFIX.type (default `default_type`) and every parameter of ScheduleSpec.
void add_schedule_schema(core::ConfigSchema& schema, const std::string& prefix, const std::string& default_type);

// Reads the spec; a non-numeric piecewise point key is a ConfigError naming it.
ScheduleSpec schedule_spec(const core::Config& config, const std::string& prefix);

// Builds the schedule to check it, turning a bad parameter into a ConfigError naming its key
// (PREFIX.t0, PREFIX.file, ...).
void check_schedule(const core::Config& config, const std::string& prefix, const ScheduleSpec& spec);

}  // namespace graybox::optim
