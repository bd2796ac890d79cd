#include "dac/control_config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace graybox::dac {
namespace {

core::ConfigSchema schema() {
  core::ConfigSchema s;
  add_control_schema(s);
  return s;
}

TEST(ControlConfig, ReadsEveryKey) {
  const core::ConfigSchema s = schema();
  const core::Config c = core::Config::parse(
      "dac:\n  control_interval: 20\n  action_mode: absolute\n  control_weight_decay: false\n"
      "  max_log10_change: 0.2\n  lr_min: 1.0e-4\n  lr_max: 0.5\n  wd_min: 1.0e-5\n  wd_max: 0.1\n"
      "  val_interval: 3\n  feature_decay: 0.9\n  reward: sparse\n  crash_penalty: 100\n",
      "c.yaml", s);
  const ControlOptions o = control_options(c);
  EXPECT_EQ(o.control_interval, 20);
  EXPECT_EQ(o.action_mode, ActionMode::kAbsolute);
  EXPECT_FALSE(o.control_weight_decay);
  EXPECT_DOUBLE_EQ(o.max_log10_change, 0.2);
  EXPECT_DOUBLE_EQ(o.lr_min, 1e-4);
  EXPECT_DOUBLE_EQ(o.lr_max, 0.5);
  EXPECT_DOUBLE_EQ(o.wd_min, 1e-5);
  EXPECT_DOUBLE_EQ(o.wd_max, 0.1);
  EXPECT_EQ(o.val_interval, 3);
  EXPECT_DOUBLE_EQ(o.feature_decay, 0.9);
  EXPECT_EQ(o.reward, RewardKind::kSparse);
  EXPECT_DOUBLE_EQ(o.crash_penalty, 100.0);
  const ControlOptions d = control_options(core::Config::parse("{}", "d.yaml", s));
  EXPECT_EQ(d.control_interval, ControlOptions{}.control_interval);
  EXPECT_EQ(d.reward, RewardKind::kDense);
}

TEST(ControlConfig, TheRelativeModeAndItsOffsetRoundTripThroughAPolicysJson) {
  const core::ConfigSchema s = schema();
  const ControlOptions o = control_options(
      core::Config::parse("dac:\n  action_mode: relative\n  max_log10_offset: 2.5\n", "c.yaml", s));
  EXPECT_EQ(o.action_mode, ActionMode::kRelative);
  EXPECT_DOUBLE_EQ(o.max_log10_offset, 2.5);
  const nlohmann::json j = control_options_to_json(o);
  EXPECT_EQ(j.at("action_mode"), "relative");
  const ControlOptions back = control_options_from_json(j);
  EXPECT_EQ(back.action_mode, ActionMode::kRelative);
  EXPECT_DOUBLE_EQ(back.max_log10_offset, 2.5);
  // A policy written before the relative mode existed reads with the default offset.
  nlohmann::json old = j;
  old["action_mode"] = "multiplicative";
  old.erase("max_log10_offset");
  EXPECT_DOUBLE_EQ(control_options_from_json(old).max_log10_offset, ControlOptions{}.max_log10_offset);
  old["action_mode"] = "sideways";
  EXPECT_THROW(control_options_from_json(old), std::runtime_error);
  EXPECT_THROW(core::Config::parse("dac:\n  max_log10_offset: 0\n", "c.yaml", s), core::ConfigError);
  EXPECT_THROW(core::Config::parse("dac:\n  max_log10_offset: 7\n", "c.yaml", s), core::ConfigError);
}

TEST(ControlConfig, TheBaseScheduleRoundTripsAndNeedsTheRelativeMode) {
  const core::ConfigSchema s = schema();
  const ControlOptions o = control_options(
      core::Config::parse("dac:\n  action_mode: relative\n  base_schedule: warmup_cosine\n", "c.yaml", s));
  EXPECT_EQ(o.base_schedule, "warmup_cosine");
  const nlohmann::json j = control_options_to_json(o);
  EXPECT_EQ(control_options_from_json(j).base_schedule, "warmup_cosine");
  nlohmann::json old = j;  // a policy written before base schedules existed
  old.erase("base_schedule");
  EXPECT_EQ(control_options_from_json(old).base_schedule, "constant");
  old["base_schedule"] = "zigzag";
  EXPECT_THROW(control_options_from_json(old), std::runtime_error);
  EXPECT_THROW(core::Config::parse("dac:\n  action_mode: relative\n  base_schedule: random\n", "c.yaml", s),
               core::ConfigError);
  try {
    control_options(core::Config::parse("dac:\n  base_schedule: cosine\n", "c.yaml", s));
    FAIL() << "a base schedule in multiplicative mode was accepted";
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("dac.base_schedule"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("relative"), std::string::npos) << e.what();
  }
}

TEST(ControlConfig, EveryRewardRoundTripsThroughAPolicysJsonAndAnUnknownOneIsRefused) {
  const core::ConfigSchema s = schema();
  for (const auto& [name, kind] : {std::pair<std::string, RewardKind>{"dense", RewardKind::kDense},
                                   {"sparse", RewardKind::kSparse},
                                   {"dense_val", RewardKind::kDenseVal}}) {
    const ControlOptions o = control_options(core::Config::parse("dac:\n  reward: " + name + "\n", "c.yaml", s));
    EXPECT_EQ(o.reward, kind) << name;
    const nlohmann::json j = control_options_to_json(o);
    EXPECT_EQ(j.at("reward"), name);
    EXPECT_EQ(control_options_from_json(j).reward, kind) << name;
  }
  // A policy file naming a reward this build does not know is an error, not dense.
  nlohmann::json j = control_options_to_json(ControlOptions{});
  j["reward"] = "dense_test";
  EXPECT_THROW(control_options_from_json(j), std::runtime_error);
  EXPECT_THROW(core::Config::parse("dac:\n  reward: val\n", "c.yaml", s), core::ConfigError);
}

TEST(ControlConfig, AnInconsistentRangeNamesTheKey) {
  const core::ConfigSchema s = schema();
  try {
    control_options(core::Config::parse("dac:\n  lr_min: 0.5\n  lr_max: 0.1\n", "c.yaml", s));
    FAIL() << "no error";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "c.yaml:2:3: dac.lr_min: need 0 < lr_min < lr_max");
  }
  EXPECT_THROW(core::Config::parse("dac:\n  control_interval: 0\n", "c.yaml", s), core::ConfigError);
}

}  // namespace
}  // namespace graybox::dac
