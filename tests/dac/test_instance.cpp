#include "dac/instance.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

#include "core/error.hpp"

namespace graybox::dac {
namespace {

const char* kEntry =
    "  - name: %s\n"
    "    data: {name: teacher_student, teacher: {dim: 8, classes: 3, examples: 600}}\n"
    "    model: {type: mlp, widths: [%d]}\n"
    "    optimizer: {name: sgd, momentum: 0.9, lr: 0.05}\n"
    "    budget: 60\n"
    "    seed: %d\n";

std::string entry(const std::string& name, int width, int seed) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, kEntry, name.c_str(), width, seed);
  return buffer;
}

// The message of the ConfigError parsing `text` throws ("" if none).
std::string error_of(const std::string& text) {
  try {
    parse_instance_set(text, "set.yaml");
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(InstanceSet, ParsesTrainAndTestLists) {
  const InstanceSet set =
      parse_instance_set("train:\n" + entry("a", 16, 1) + entry("b", 16, 2) + "test:\n" + entry("c", 32, 3), "set.yaml");
  ASSERT_EQ(set.train.size(), 2u);
  ASSERT_EQ(set.test.size(), 1u);
  const Instance& a = set.train[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.data.name, "teacher_student");
  EXPECT_EQ(a.data.teacher.dim, 8);
  EXPECT_EQ(a.data.teacher.classes, 3);
  EXPECT_EQ(a.data.teacher.hidden, 32);  // the default
  EXPECT_EQ(a.model.widths, std::vector<long long>{16});
  EXPECT_EQ(a.optimizer, optim::OptimizerKind::kSgd);
  EXPECT_DOUBLE_EQ(a.lr, 0.05);
  EXPECT_EQ(a.budget, 60);
  EXPECT_EQ(a.seed, 1u);
  EXPECT_EQ(a.where, "set.yaml:2:5");
  EXPECT_EQ(set.test[0].model.widths, std::vector<long long>{32});
}

TEST(InstanceSet, ErrorsNameTheFileLineAndField) {
  const std::string good_test = "test:\n" + entry("c", 32, 3);
  // The error of a set whose training instance has `from` replaced by `to`.
  const auto error_with = [&](const std::string& from, const std::string& to) {
    std::string train = "train:\n" + entry("a", 16, 1);
    train.replace(train.find(from), from.size(), to);
    return error_of(train + good_test);
  };
  EXPECT_EQ(error_with("budget: 60", "budget: -5"), "set.yaml:6:5: budget: must be an integer >= 1");
  EXPECT_EQ(error_with("lr: 0.05", "lr: fast"), "set.yaml:5:43: optimizer.lr: not a valid value");
  EXPECT_EQ(error_with("widths", "widht").rfind("set.yaml:4:24: unknown key 'model.widht'", 0), 0u);
  EXPECT_EQ(error_with("name: sgd", "name: rmsprop"),
            "set.yaml:5:17: optimizer.name: 'rmsprop' is not one of: sgd, adamw");
  EXPECT_EQ(error_with("dim: 8", "dim: 0"), "set.yaml:3:45: data.teacher.dim: must be an integer >= 1");
  EXPECT_EQ(error_with("    budget: 60\n", ""), "set.yaml:2:5: budget: missing (every instance needs it)");

  EXPECT_EQ(error_of(good_test), "set.yaml: train: missing (an instance set has a train and a test list)");
  EXPECT_EQ(error_of("train: []\n" + good_test), "set.yaml:1:8: train: expected a non-empty list of instances");
  EXPECT_EQ(error_of("train:\n" + entry("a", 16, 1) + good_test + "extra: 1\n"),
            "set.yaml:15:1: unknown key 'extra' (known: train, test)");
  EXPECT_EQ(error_of("train:\n" + entry("c", 16, 1) + good_test), "set.yaml:9:5: name: 'c' names two instances");
  EXPECT_EQ(error_of("train: [\n").rfind("set.yaml:", 0), 0u);
}

TEST(InstanceSet, ATestInstanceMustDifferInMoreThanSeed) {
  const std::string message = error_of("train:\n" + entry("a", 16, 1) + "test:\n" + entry("c", 16, 9));
  EXPECT_EQ(message.rfind("set.yaml:9:5: test instance 'c' differs from training instance 'a' (set.yaml:2:5) only", 0),
            0u)
      << message;
  // Another budget is enough.
  std::string other = entry("c", 16, 9);
  other.replace(other.find("budget: 60"), 10, "budget: 90");
  EXPECT_EQ(error_of("train:\n" + entry("a", 16, 1) + "test:\n" + other), "");
}

TEST(InstanceSet, AMissingFileIsAUserError) {
  try {
    load_instance_set("/nonexistent/instances.yaml");
    FAIL() << "no error";
  } catch (const core::UserError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/instances.yaml: cannot open the instance set (does it exist?)");
  }
}

TEST(InstanceSet, TheShippedSetCoversTheBenchmark) {
  const InstanceSet set = load_instance_set(std::string(GRAYBOX_SOURCE_DIR) + "/configs/control/instances.yaml");
  EXPECT_GE(set.train.size(), 12u);
  EXPECT_GE(set.test.size(), 6u);
  for (const auto* list : {&set.train, &set.test}) {
    std::set<std::string> kinds;
    for (const Instance& in : *list) {
      kinds.insert(in.data.name + "/" + in.model.type);
      kinds.insert(in.optimizer == optim::OptimizerKind::kSgd ? "sgd" : "adamw");
    }
    for (const char* k : {"fashion_mnist/mlp", "fashion_mnist/cnn", "digits/mlp", "teacher_student/mlp", "sgd", "adamw"}) {
      EXPECT_TRUE(kinds.count(k)) << k;
    }
  }
}

}  // namespace
}  // namespace graybox::dac
