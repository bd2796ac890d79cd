#include "optim/schedule_config.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "core/error.hpp"

namespace graybox::optim {

void add_schedule_schema(core::ConfigSchema& s, const std::string& p, const std::string& default_type) {
  std::vector<std::string> kinds = {"constant", "linear", "step", "multistep", "exponential", "cosine", "sgdr",
                                    "onecycle", "piecewise", "recorded"};
  // An owner may add a default of its own (PPO's "auto": CleanRL's annealing switch decides).
  if (std::find(kinds.begin(), kinds.end(), default_type) == kinds.end()) kinds.insert(kinds.begin(), default_type);
  s.add_string(p + "type", default_type, "the multiplier's shape", kinds);
  s.add_float(p + "value", 1.0, "constant: the multiplier");
  s.add_float(p + "start", 1.0, "linear: first multiplier");
  s.add_float(p + "end", 0.0, "linear: last multiplier");
  s.add_float(p + "duration", 0.0, "linear, cosine, onecycle: length in units (0: the whole run after warm-up)", 0.0, 1e15);
  s.add_float(p + "step_size", 1.0, "step: multiply by gamma every step_size units", 0.0, 1e15).min_exclusive = true;
  s.add_float(p + "gamma", 0.1, "step, multistep, exponential: decay factor", 0.0, 1e6).min_exclusive = true;
  s.add_int_list(p + "milestones", "[]", "multistep: the units at which to multiply by gamma", 0);
  s.add_float(p + "min", 0.0, "cosine, sgdr: the lowest multiplier", 0.0, 1e6);
  s.add_float(p + "t0", 10.0, "sgdr: first period in units", 0.0, 1e15).min_exclusive = true;
  s.add_float(p + "t_mult", 1.0, "sgdr: period growth after each restart", 1.0, 1e6);
  s.add_float(p + "max_at", 0.3, "onecycle: fraction of the cycle spent rising", 0.0, 1.0);
  s.add_float(p + "div_factor", 25.0, "onecycle: start = 1/div_factor", 0.0, 1e12).min_exclusive = true;
  s.add_float(p + "final_div_factor", 1e4, "onecycle: end = start/final_div_factor", 0.0, 1e12).min_exclusive = true;
  s.allow_open_prefix(p + "points.");  // piecewise: {unit: multiplier, ...}
  s.add_string(p + "file", "", "recorded: a schedule file (YAML name/unit/interpolation/points, or CSV step,value)");
  s.add_float(p + "warmup", 0.0, "linear warm-up length in units in front of the schedule", 0.0, 1e15);
  s.add_float(p + "warmup_start", 0.0, "the warm-up's first multiplier, as a fraction of the schedule's start", 0.0, 1.0);
}

ScheduleSpec schedule_spec(const core::Config& config, const std::string& p) {
  ScheduleSpec s;
  s.type = config.get_string(p + "type");
  s.value = config.get_float(p + "value");
  s.start = config.get_float(p + "start");
  s.end = config.get_float(p + "end");
  s.duration = config.get_float(p + "duration");
  s.step_size = config.get_float(p + "step_size");
  s.gamma = config.get_float(p + "gamma");
  for (const long long m : config.get_int_list(p + "milestones")) s.milestones.push_back(static_cast<double>(m));
  s.min = config.get_float(p + "min");
  s.t0 = config.get_float(p + "t0");
  s.t_mult = config.get_float(p + "t_mult");
  s.max_at = config.get_float(p + "max_at");
  s.div_factor = config.get_float(p + "div_factor");
  s.final_div_factor = config.get_float(p + "final_div_factor");
  for (const auto& [key, value] : config.open_values(p + "points.")) {
    char* end = nullptr;
    const double at = std::strtod(key.c_str(), &end);
    if (end == key.c_str() || *end != '\0') config.fail(p + "points." + key, "a point's key must be a number (the step or epoch)");
    s.points.emplace_back(at, value);
  }
  std::sort(s.points.begin(), s.points.end());
  s.file = config.get_string(p + "file");
  s.warmup = config.get_float(p + "warmup");
  s.warmup_start = config.get_float(p + "warmup_start");
  return s;
}

void check_schedule(const core::Config& config, const std::string& p, const ScheduleSpec& spec) {
  try {
    make_schedule(spec);
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    const auto colon = message.find(':');
    config.fail(p + message.substr(0, colon), colon == std::string::npos ? message : message.substr(colon + 2));
  } catch (const core::UserError& e) {
    config.fail(p + "file", e.what());
  }
}

}  // namespace graybox::optim
