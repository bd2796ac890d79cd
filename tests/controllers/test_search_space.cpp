#include "core/search_space.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "core/yaml.hpp"

namespace graybox::core {
namespace {

SearchSpace parse(const std::string& yaml) { return SearchSpace::from_yaml(YAML::Load(yaml), "space.yaml"); }

std::string error_of(const std::string& yaml, const ConfigSchema* keys = nullptr) {
  try {
    SearchSpace::from_yaml(YAML::Load(yaml), "space.yaml", keys);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

const char* kSpace =
    "lr: {type: float, low: 1.0e-5, high: 1.0e-1, log: true}\n"
    "batch: {type: int, low: 16, high: 256, log: true}\n"
    "opt: {type: categorical, choices: [sgd, adam]}\n"
    "momentum: {type: float, low: 0.0, high: 0.99, condition: {parent: opt, values: [sgd]}}\n"
    "gamma: 0.99\n";

TEST(SearchSpace, ParsesEveryKind) {
  const SearchSpace s = parse(kSpace);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_TRUE(s.dims()[0].log);
  EXPECT_EQ(s.dims()[1].type, DimensionType::kInt);
  EXPECT_EQ(s.dims()[2].choices.size(), 2u);
  EXPECT_EQ(s.dims()[3].parent, "opt");
  EXPECT_EQ(s.dims()[4].type, DimensionType::kFixed);
}

TEST(SearchSpace, EncodeDecodeRoundTripsLogAware) {
  const SearchSpace s = parse(kSpace);
  Rng rng(1);
  for (int k = 0; k < 200; ++k) {
    const Configuration c = s.sample(rng);
    EXPECT_GE(c.values[0], 1e-5);
    EXPECT_LE(c.values[0], 1e-1);
    EXPECT_EQ(c.values[1], std::round(c.values[1]));
    EXPECT_EQ(s.active(c, 3), c.values[2] == 0.0);  // momentum only with sgd
    EXPECT_EQ(std::isnan(c.values[3]), c.values[2] != 0.0);
    const Configuration back = s.decode(s.encode(c));
    EXPECT_NEAR(back.values[0], c.values[0], 1e-12 * c.values[0]);
    EXPECT_EQ(back.values[1], c.values[1]);
    EXPECT_EQ(back.values[2], c.values[2]);
  }
  // The log scale puts the geometric midpoint at 0.5.
  Configuration mid;
  mid.values = {1e-3, 64, 1, std::nan(""), 0};
  EXPECT_NEAR(s.encode(mid)[0], 0.5, 1e-12);
}

TEST(SearchSpace, GridEnumeratesCombinationsAndDropsInactiveDuplicates) {
  const SearchSpace s = parse(
      "opt: {type: categorical, choices: [sgd, adam]}\n"
      "momentum: {type: float, low: 0.0, high: 0.9, condition: {parent: opt, values: [sgd]}}\n");
  // sgd x 3 momenta + adam (momentum inactive) once.
  EXPECT_EQ(s.grid(3).size(), 4u);
}

TEST(SearchSpace, OverridesAndJson) {
  const SearchSpace s = parse(kSpace);
  Configuration c;
  c.values = {0.001, 64, 1, std::nan(""), 0};
  const auto o = s.overrides(c);
  ASSERT_EQ(o.size(), 4u);
  EXPECT_EQ(o[0], "lr=0.001");
  EXPECT_EQ(o[1], "batch=64");
  EXPECT_EQ(o[2], "opt=adam");
  EXPECT_EQ(o[3], "gamma=0.99");
  EXPECT_TRUE(s.from_json(s.to_json(c)) == c);
}

TEST(SearchSpace, MalformedSpacesAreClearErrors) {
  EXPECT_NE(error_of("lr: {type: float, low: 1, high: 0}\n").find("low (1) is greater than high (0)"), std::string::npos);
  EXPECT_NE(error_of("lr: {type: float, low: 0, high: 1, log: true}\n").find("log scale needs low > 0"), std::string::npos);
  EXPECT_NE(error_of("lr: {type: flaot, low: 0, high: 1}\n").find("unknown type 'flaot'"), std::string::npos);
  EXPECT_NE(error_of("lr: {type: float, low: 0, hihg: 1}\n").find("did you mean 'high'"), std::string::npos);
  EXPECT_NE(error_of("lr: {type: float, low: 0}\n").find("needs 'low' and 'high'"), std::string::npos);
  EXPECT_NE(error_of("lr: {type: float, low: a, high: 1}\n").find("expected a finite number"), std::string::npos);
  EXPECT_NE(error_of("c: {type: categorical, choices: []}\n").find("non-empty"), std::string::npos);
  EXPECT_NE(error_of("m: {type: float, low: 0, high: 1, condition: {parent: nope, values: [a]}}\n").find("parent 'nope'"),
            std::string::npos);
  EXPECT_NE(error_of("lr: {type: float, low: 1, high: 0}\n").find("space.yaml:1:"), std::string::npos);
}

TEST(SearchSpace, KeysMustBelongToTheTask) {
  ConfigSchema keys;
  keys.add_float("agent.learning_rate", 3e-4, "lr");
  const std::string e = error_of("agent.learning_rat: {type: float, low: 0.1, high: 1}\n", &keys);
  EXPECT_NE(e.find("did you mean 'agent.learning_rate'"), std::string::npos) << e;
}

}  // namespace
}  // namespace graybox::core
