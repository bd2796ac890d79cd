#include "dac/control_config.hpp"

#include <stdexcept>
#include <string>

#include "dac/baselines.hpp"

namespace graybox::dac {

void add_control_schema(core::ConfigSchema& s) {
  s.add_int("dac.control_interval", 50, "minibatches per control step (K): the action holds for these", 1, 1e9);
  s.add_string("dac.action_mode", "multiplicative",
               "multiplicative: each action in [-1, 1] moves log10 lr (and wd) by at most max_log10_change; "
               "absolute: the action is log10 of the value; relative: each action in [-1, 1] sets log10 lr (and wd) "
               "to the run's start value's plus at most max_log10_offset",
               {"multiplicative", "absolute", "relative"});
  s.add_bool("dac.control_weight_decay", true, "the policy sets the weight decay too (false: the instance's stays)");
  s.add_float("dac.max_log10_change", 0.1, "multiplicative: the largest change of log10 lr or wd in one step", 0.0, 3.0)
      .min_exclusive = true;
  s.add_float("dac.max_log10_offset", 1.0, "relative: the largest distance of log10 lr or wd from the run's start value",
              0.0, 6.0)
      .min_exclusive = true;
  s.add_string("dac.base_schedule", "constant",
               "relative: the lr's offsets are from the run's start value times this baseline schedule over the "
               "budget (the policy learns corrections to it; constant: the start value itself)",
               base_schedule_names());
  s.add_float("dac.lr_min", 1e-5, "the lowest learning rate an action can set", 0.0, 1e6).min_exclusive = true;
  s.add_float("dac.lr_max", 1.0, "the highest learning rate an action can set", 0.0, 1e6).min_exclusive = true;
  s.add_float("dac.wd_min", 1e-6, "the lowest weight decay an action can set (log scale, so > 0)", 0.0, 1e6)
      .min_exclusive = true;
  s.add_float("dac.wd_max", 1.0, "the highest weight decay an action can set", 0.0, 1e6).min_exclusive = true;
  s.add_int("dac.val_interval", 10, "control steps between validation passes (0: at reset and the end only)", 0, 1e9);
  s.add_float("dac.feature_decay", 0.98, "per-minibatch decay of the discounted mean and variance of the log loss",
              0.0, 0.999999);
  s.add_string("dac.reward", "dense",
               "dense: -(change of log training loss) each step; sparse: -validation loss at the end; dense_val: "
               "-(change of log validation loss) at each validation pass (every val_interval steps and the end)",
               {"dense", "sparse", "dense_val"});
  s.add_float("dac.crash_penalty", 10.0, "the reward of a step whose training loss is not finite (the episode ends)",
              0.0, 1e9);
}

const char* action_mode_name(ActionMode mode) {
  switch (mode) {
    case ActionMode::kAbsolute:
      return "absolute";
    case ActionMode::kRelative:
      return "relative";
    case ActionMode::kMultiplicative:
      break;
  }
  return "multiplicative";
}

ActionMode action_mode_from_name(const std::string& name) {
  if (name == "multiplicative") return ActionMode::kMultiplicative;
  if (name == "absolute") return ActionMode::kAbsolute;
  if (name == "relative") return ActionMode::kRelative;
  throw std::invalid_argument("action_mode: unknown mode '" + name + "'");
}

const char* reward_name(RewardKind reward) {
  switch (reward) {
    case RewardKind::kSparse:
      return "sparse";
    case RewardKind::kDenseVal:
      return "dense_val";
    case RewardKind::kDense:
      break;
  }
  return "dense";
}

RewardKind reward_from_name(const std::string& name) {
  if (name == "dense") return RewardKind::kDense;
  if (name == "sparse") return RewardKind::kSparse;
  if (name == "dense_val") return RewardKind::kDenseVal;
  throw std::invalid_argument("reward: unknown reward '" + name + "'");
}

ControlOptions control_options(const core::Config& config) {
  ControlOptions o;
  o.control_interval = config.get_int("dac.control_interval");
  o.action_mode = action_mode_from_name(config.get_string("dac.action_mode"));
  o.control_weight_decay = config.get_bool("dac.control_weight_decay");
  o.max_log10_change = config.get_float("dac.max_log10_change");
  o.max_log10_offset = config.get_float("dac.max_log10_offset");
  o.base_schedule = config.get_string("dac.base_schedule");
  o.lr_min = config.get_float("dac.lr_min");
  o.lr_max = config.get_float("dac.lr_max");
  o.wd_min = config.get_float("dac.wd_min");
  o.wd_max = config.get_float("dac.wd_max");
  o.val_interval = config.get_int("dac.val_interval");
  o.feature_decay = config.get_float("dac.feature_decay");
  o.reward = reward_from_name(config.get_string("dac.reward"));
  o.crash_penalty = config.get_float("dac.crash_penalty");
  try {
    check_options(o);
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    const auto colon = message.find(':');
    config.fail("dac." + message.substr(0, colon), message.substr(colon + 2));
  }
  return o;
}

nlohmann::json control_options_to_json(const ControlOptions& o) {
  nlohmann::json j;
  j["control_interval"] = o.control_interval;
  j["action_mode"] = action_mode_name(o.action_mode);
  j["control_weight_decay"] = o.control_weight_decay;
  j["max_log10_change"] = o.max_log10_change;
  j["max_log10_offset"] = o.max_log10_offset;
  j["base_schedule"] = o.base_schedule;
  j["lr_min"] = o.lr_min;
  j["lr_max"] = o.lr_max;
  j["wd_min"] = o.wd_min;
  j["wd_max"] = o.wd_max;
  j["val_interval"] = o.val_interval;
  j["feature_decay"] = o.feature_decay;
  j["reward"] = reward_name(o.reward);
  j["crash_penalty"] = o.crash_penalty;
  return j;
}

ControlOptions control_options_from_json(const nlohmann::json& j) {
  ControlOptions o;
  try {
    o.control_interval = j.at("control_interval").get<std::int64_t>();
    o.action_mode = action_mode_from_name(j.at("action_mode").get<std::string>());
    o.control_weight_decay = j.at("control_weight_decay").get<bool>();
    o.max_log10_change = j.at("max_log10_change").get<double>();
    // Policies written before the relative mode existed have no offset; it does not act then.
    o.max_log10_offset = j.value("max_log10_offset", ControlOptions{}.max_log10_offset);
    // ... nor a base schedule: theirs is constant.
    o.base_schedule = j.value("base_schedule", ControlOptions{}.base_schedule);
    o.lr_min = j.at("lr_min").get<double>();
    o.lr_max = j.at("lr_max").get<double>();
    o.wd_min = j.at("wd_min").get<double>();
    o.wd_max = j.at("wd_max").get<double>();
    o.val_interval = j.at("val_interval").get<std::int64_t>();
    o.feature_decay = j.at("feature_decay").get<double>();
    o.reward = reward_from_name(j.at("reward").get<std::string>());
    o.crash_penalty = j.at("crash_penalty").get<double>();
    check_options(o);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("control options: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("control options: ") + e.what());
  }
  return o;
}

}  // namespace graybox::dac
