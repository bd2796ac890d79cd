#include "core/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace graybox::core {
namespace {

ConfigSchema small_schema() {
  ConfigSchema s;
  s.add_int("seed", 1, "seed", 0);
  s.add_int("total_steps", 1000, "steps", 1);
  s.add_string("env.id", "Hopper-v5", "task");
  s.add_float("agent.learning_rate", 3e-4, "lr", 0.0, 1.0).min_exclusive = true;
  s.add_float("agent.gamma", 0.99, "discount", 0.0, 1.0);
  s.add_bool("agent.anneal_lr", true, "anneal");
  s.add_string("agent.algo", "ppo", "algo", {"ppo"});
  s.add_int_list("agent.hidden_sizes", "[64, 64]", "widths", 1);
  s.allow_open_prefix("env.");
  return s;
}

std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  const ConfigSchema schema = small_schema();
  try {
    Config::parse(yaml, "cfg.yaml", schema, overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsFillEveryKey) {
  const ConfigSchema schema = small_schema();
  const Config c = Config::parse("", "cfg.yaml", schema);
  EXPECT_EQ(c.get_int("seed"), 1);
  EXPECT_DOUBLE_EQ(c.get_float("agent.learning_rate"), 3e-4);
  EXPECT_TRUE(c.get_bool("agent.anneal_lr"));
  EXPECT_EQ(c.get_string("env.id"), "Hopper-v5");
  EXPECT_EQ(c.get_int_list("agent.hidden_sizes"), (std::vector<long long>{64, 64}));
  EXPECT_EQ(c.where("seed"), "default");
}

TEST(Config, ReadsNestedValuesAndPositions) {
  const ConfigSchema schema = small_schema();
  const Config c = Config::parse("seed: 7\nagent:\n  gamma: 0.95\n  hidden_sizes: [32, 16]\ntotal_steps: 1e5\n",
                                 "cfg.yaml", schema);
  EXPECT_EQ(c.get_int("seed"), 7);
  EXPECT_DOUBLE_EQ(c.get_float("agent.gamma"), 0.95);
  EXPECT_EQ(c.get_int_list("agent.hidden_sizes"), (std::vector<long long>{32, 16}));
  EXPECT_EQ(c.get_int("total_steps"), 100000);
  EXPECT_EQ(c.where("agent.gamma"), "cfg.yaml:3:3");
}

TEST(Config, UnknownKeyNamesPositionAndSuggests) {
  const std::string e = error_of("seed: 1\nagent:\n  learning_rat: 0.001\n");
  EXPECT_NE(e.find("cfg.yaml:3:3"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'agent.learning_rat'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'agent.learning_rate'"), std::string::npos) << e;
}

TEST(Config, KeyInTheWrongSectionIsSuggested) {
  const std::string e = error_of("gamma: 0.9\n");
  EXPECT_NE(e.find("did you mean 'agent.gamma'"), std::string::npos) << e;
}

TEST(Config, MalformedYamlNamesPosition) {
  const std::string e = error_of("seed: 1\nagent: [1, 2\n");
  EXPECT_NE(e.find("cfg.yaml:"), std::string::npos) << e;
  EXPECT_NE(e.find("malformed YAML"), std::string::npos) << e;
}

TEST(Config, WrongTypeIsAnError) {
  EXPECT_NE(error_of("seed: abc\n").find("expected an integer"), std::string::npos);
  EXPECT_NE(error_of("seed: 2.5\n").find("expected an integer"), std::string::npos);
  EXPECT_NE(error_of("agent:\n  anneal_lr: maybe\n").find("expected true or false"), std::string::npos);
  EXPECT_NE(error_of("agent:\n  gamma: [1]\n").find("got a list"), std::string::npos);
  EXPECT_NE(error_of("agent:\n  hidden_sizes: 64\n").find("list of integers"), std::string::npos);
  EXPECT_NE(error_of("agent:\n  gamma: .nan\n").find("finite number"), std::string::npos);
}

TEST(Config, OutOfRangeIsAnError) {
  const std::string e = error_of("agent:\n  gamma: -0.5\n");
  EXPECT_NE(e.find("cfg.yaml:2:3"), std::string::npos) << e;
  EXPECT_NE(e.find("agent.gamma"), std::string::npos) << e;
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
  EXPECT_NE(error_of("agent:\n  learning_rate: 0\n").find("in (0, 1]"), std::string::npos);
  EXPECT_NE(error_of("agent:\n  algo: dqn\n").find("not one of: ppo"), std::string::npos);
}

TEST(Config, DuplicateKeyIsAnError) {
  EXPECT_NE(error_of("seed: 1\nseed: 2\n").find("duplicate key 'seed'"), std::string::npos);
}

TEST(Config, TopLevelMustBeAMapping) {
  EXPECT_NE(error_of("- 1\n- 2\n").find("mapping"), std::string::npos);
}

TEST(Config, OverridesReachAnyKey) {
  const ConfigSchema schema = small_schema();
  const Config c = Config::parse("seed: 3\n", "cfg.yaml", schema,
                                 {"agent.gamma=0.9", "seed=5", "agent.hidden_sizes=[8,8,8]", "env.ctrl_cost_weight=0.5"});
  EXPECT_DOUBLE_EQ(c.get_float("agent.gamma"), 0.9);
  EXPECT_EQ(c.get_int("seed"), 5);
  EXPECT_EQ(c.get_int_list("agent.hidden_sizes").size(), 3u);
  EXPECT_EQ(c.where("seed"), "--set seed");
  EXPECT_DOUBLE_EQ(c.open_values("env.").at("ctrl_cost_weight"), 0.5);
}

TEST(Config, BadOverridesAreErrors) {
  EXPECT_NE(error_of("", {"agent.gama=0.9"}).find("did you mean 'agent.gamma'"), std::string::npos);
  EXPECT_NE(error_of("", {"agent.gamma"}).find("KEY=VALUE"), std::string::npos);
  EXPECT_NE(error_of("", {"agent.gamma=2"}).find("out of range"), std::string::npos);
}

TEST(Config, OpenKeysMustBeNumbers) {
  EXPECT_NE(error_of("env:\n  ctrl_cost_weight: high\n").find("finite number"), std::string::npos);
}

TEST(Config, MissingFileIsAnError) {
  const ConfigSchema schema = small_schema();
  try {
    Config::load("/nonexistent/graybox.yaml", schema);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/graybox.yaml"), std::string::npos);
  }
}

TEST(Config, EmptyListsAreValidWhereTheDefaultIsEmpty) {
  ConfigSchema schema = small_schema();
  schema.add_int_list("schedule.milestones", "[]", "milestones", 0);
  const Config c = Config::parse("schedule:\n  milestones: []\n", "cfg.yaml", schema);
  EXPECT_TRUE(c.get_int_list("schedule.milestones").empty());
  // ... and the resolved YAML of defaults reloads.
  EXPECT_NO_THROW(Config::parse(Config::parse("", "cfg.yaml", schema).to_yaml(), "resolved.yaml", schema));
  EXPECT_NE(error_of("agent:\n  hidden_sizes: []\n").find("non-empty"), std::string::npos);
}

TEST(Config, ResolvedYamlReloadsToTheSameValues) {
  const ConfigSchema schema = small_schema();
  const Config c = Config::parse("seed: 9\nagent:\n  gamma: 0.97\nenv:\n  id: InvertedPendulum-v5\n  ctrl_cost_weight: 0.25\n",
                                 "cfg.yaml", schema);
  const std::string yaml = c.to_yaml();
  const Config again = Config::parse(yaml, "resolved.yaml", schema);
  EXPECT_EQ(again.to_yaml(), yaml);
  EXPECT_EQ(again.get_int("seed"), 9);
  EXPECT_DOUBLE_EQ(again.get_float("agent.gamma"), 0.97);
  EXPECT_EQ(again.get_string("env.id"), "InvertedPendulum-v5");
  EXPECT_DOUBLE_EQ(again.open_values("env.").at("ctrl_cost_weight"), 0.25);
  EXPECT_NE(yaml.find("# lr"), std::string::npos) << yaml;  // docs are written as comments
}

// Issue 11 item 14: a whole number too large for an integer key is "out of range", like any
// other bound, not "expected an integer" (while 2e3 is accepted).
TEST(Config, AHugeWholeNumberIsOutOfRangeNotANonInteger) {
  std::string e = error_of("", {"total_steps=1e30"});
  EXPECT_NE(e.find("total_steps"), std::string::npos) << e;
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
  EXPECT_EQ(e.find("expected an integer"), std::string::npos) << e;
  e = error_of("", {"seed=1e30"});  // no upper bound in the schema
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
  EXPECT_NE(error_of("", {"total_steps=2.5"}).find("expected an integer"), std::string::npos);
  EXPECT_EQ(error_of("", {"total_steps=2e3"}), "");
}

// Issue 11 item 10: a directory given as the config file is an error naming it.
TEST(Config, ADirectoryIsNotAConfigFile) {
  const ConfigSchema schema = small_schema();
  const std::string dir = ::testing::TempDir();
  try {
    Config::load(dir, schema);
    FAIL() << "a directory loaded as a config";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
}

// Issue 11 item 3: list elements have an upper bound too.
TEST(Config, ListElementsHaveAnUpperBound) {
  ConfigSchema s;
  s.add_int_list("widths", "[64]", "widths", 1, 4096);
  EXPECT_NO_THROW(Config::parse("widths: [4096]\n", "cfg.yaml", s));
  try {
    Config::parse("widths: [100000000]\n", "cfg.yaml", s);
    FAIL() << "an oversized layer passed";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.yaml:1:1: widths: value 100000000 is out of range"), std::string::npos)
        << e.what();
  }
}

// Issue 11 item 15: one rule for paths: relative to the file that names them; --set ones
// relative to the working directory; stored absolute so a resolved config reloads anywhere.
TEST(Config, RelativePathsAreRelativeToTheFileThatNamesThem) {
  namespace fs = std::filesystem;
  ConfigSchema s;
  s.add_path("model", "a model file");
  s.add_string("other", "", "a plain string");
  s.add_string("env.model_path", "", "declared elsewhere as a string");
  s.mark_paths({"env.model_path"});
  const fs::path dir = fs::path(::testing::TempDir()) / "graybox_config_paths";
  fs::create_directories(dir / "sub");
  const std::string file = (dir / "sub" / "c.yaml").string();
  std::ofstream(file) << "model: m.xml\nother: m.xml\nenv:\n  model_path: ../x/n.xml\n";
  const Config c = Config::load(file, s);
  EXPECT_EQ(c.get_string("model"), (dir / "sub" / "m.xml").string());
  EXPECT_EQ(c.get_string("env.model_path"), (dir / "x" / "n.xml").string());
  EXPECT_EQ(c.get_string("other"), "m.xml");
  const Config o = Config::load(file, s, {"model=rel/m.xml"});
  EXPECT_EQ(o.get_string("model"), (fs::current_path() / "rel" / "m.xml").string());
  // The resolved YAML holds the absolute path, so it reloads to the same file from elsewhere.
  const std::string moved = (dir / "resolved.yaml").string();
  std::ofstream(moved) << c.to_yaml();
  EXPECT_EQ(Config::load(moved, s).get_string("model"), c.get_string("model"));
  EXPECT_THROW(s.mark_paths({"nope"}), std::logic_error);
  fs::remove_all(dir);
}

TEST(ConfigSchema, EditDistance) {
  EXPECT_EQ(edit_distance("gamma", "gama"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

}  // namespace
}  // namespace graybox::core
