// The supervised task as a Trainable on a tiny teacher-student problem: it learns, the schedule
// sets the learning rate, a resumed run repeats the numbers exactly, and a huge learning rate
// ends as "diverged" rather than a crash.
#include "tasks/supervised_task.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace graybox::tasks {
namespace {

class Rows : public core::MetricSink {
 public:
  void metric(std::int64_t step, const std::string& name, double value) override { rows.push_back({step, name, value}); }
  void event(std::int64_t, const std::string& kind, const std::string&) override { events.push_back(kind); }
  struct Row {
    std::int64_t step;
    std::string name;
    double value;
    bool operator==(const Row& o) const { return step == o.step && name == o.name && value == o.value; }
  };
  std::vector<Row> rows;
  std::vector<std::string> events;
};

SupervisedTaskConfig tiny(const std::vector<std::string>& extra = {}) {
  static const core::ConfigSchema schema = [] {
    core::ConfigSchema s;
    add_supervised_schema(s);
    return s;
  }();
  std::vector<std::string> overrides = {"data.name=teacher_student", "data.teacher.examples=600", "model.widths=[32]",
                                        "model.dropout=0.1", "train.epochs=4", "train.batch_size=32",
                                        "optimizer.lr=0.01", "schedule.type=cosine", "schedule.warmup=1"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return supervised_task_config(core::Config::parse("", "test", schema, overrides));
}

TEST(SupervisedTask, LearnsAndFollowsTheSchedule) {
  SupervisedTask task(tiny());
  EXPECT_EQ(task.steps_per_epoch(), 14);  // ceil(420 training examples / 32)
  EXPECT_DOUBLE_EQ(task.learning_rate_now(), 0.0);  // warm-up starts at 0
  const double before = task.evaluate_split("val").accuracy;
  Rows sink;
  task.train(14, sink);
  EXPECT_NEAR(task.learning_rate_now(), 0.01, 1e-12);  // end of warm-up: the cosine's start
  task.train(1000, sink);
  EXPECT_TRUE(task.finished());
  EXPECT_EQ(task.steps_done(), 56);
  EXPECT_GT(task.evaluate_split("val").accuracy, before + 0.1);
  EXPECT_NEAR(task.evaluate(1).mean, task.evaluate_split("val").accuracy, 1e-12);
}

TEST(SupervisedTask, ResumeRepeatsTheNumbers) {
  const fs::path dir = fs::temp_directory_path() / ("graybox_sup_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  SupervisedTask straight(tiny()), first(tiny());
  Rows a, b;
  straight.train(40, a);
  first.train(22, b);  // stops mid-epoch
  first.save(dir.string());
  SupervisedTask resumed(tiny());
  resumed.load(dir.string());
  EXPECT_EQ(resumed.steps_done(), 22);
  resumed.train(18, b);
  EXPECT_EQ(a.rows, b.rows);
  fs::remove_all(dir);
}

// PBT's exploit for a supervised task is in memory: an exact copy (weights, moments, dropout
// generator, data order, position) repeats the donor's numbers; after reseed() the epoch in
// progress keeps its order and the next epochs are shuffled from the copy's own stream.
TEST(SupervisedTask, AnInMemoryCopyRepeatsTheDonorAndAReseededCopyShufflesItsOwnEpochs) {
  const std::vector<std::string> no_dropout = {"model.dropout=0"};
  SupervisedTask donor(tiny(no_dropout)), exact(tiny(no_dropout)), own(tiny(no_dropout));
  Rows warmup;
  donor.train(5, warmup);  // mid-epoch (14 minibatches per epoch)
  exact.copy_state_from(donor);
  own.copy_state_from(donor);
  own.reseed(99);
  EXPECT_EQ(exact.steps_done(), 5);
  Rows d, e, o;
  donor.train(9, d);  // to the end of the first epoch
  exact.train(9, e);
  own.train(9, o);
  EXPECT_EQ(e.rows, d.rows);
  EXPECT_EQ(o.rows, d.rows);  // the epoch in progress keeps its order
  Rows d2, e2, o2;
  donor.train(14, d2);
  exact.train(14, e2);
  own.train(14, o2);
  EXPECT_EQ(e2.rows, d2.rows);
  EXPECT_NE(o2.rows, d2.rows);
  EXPECT_THROW(exact.copy_state_from(SupervisedTask(tiny({"model.widths=[16]"}))), std::invalid_argument);
}

// The dropout generator is part of the copied state: with dropout, an exact copy still repeats.
TEST(SupervisedTask, AnInMemoryCopyWithDropoutRepeatsTheDonor) {
  SupervisedTask donor(tiny()), exact(tiny());
  Rows warmup;
  donor.train(20, warmup);
  exact.copy_state_from(donor);
  Rows d, e;
  donor.train(20, d);
  exact.train(20, e);
  EXPECT_EQ(e.rows, d.rows);
}

// Trials and population members have seeds of their own but must score on one validation set
// (and a copied member must not have trained on the loser's validation examples): data.split_seed
// fixes the data apart from the run seed.
TEST(SupervisedTask, SplitSeedFixesTheDataAcrossRunSeeds) {
  SupervisedTask a(tiny({"seed=1"})), b(tiny({"seed=2"}));
  EXPECT_NE(a.trainer().data().val.x, b.trainer().data().val.x);
  SupervisedTask c(tiny({"seed=1", "data.split_seed=5"})), d(tiny({"seed=2", "data.split_seed=5"}));
  EXPECT_EQ(c.trainer().data().val.x, d.trainer().data().val.x);
  EXPECT_EQ(c.trainer().data().train.y, d.trainer().data().train.y);
}

TEST(SupervisedTask, NonFiniteLossEndsAsDiverged) {
  SupervisedTask task(tiny({"optimizer.name=sgd", "optimizer.lr=1e6", "schedule.type=constant", "schedule.warmup=0"}));
  Rows sink;
  task.train(1000, sink);
  EXPECT_TRUE(task.diverged());
  EXPECT_TRUE(task.finished());
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0], "diverged");
}

TEST(SupervisedTask, HyperparametersAreValidatedAndApplied) {
  SupervisedTask task(tiny({"schedule.type=constant", "schedule.warmup=0", "optimizer.weight_decay_normalized=true",
                            "optimizer.weight_decay=0.05"}));
  EXPECT_NEAR(task.weight_decay_now(), 0.05 * std::sqrt(32.0 / (420.0 * 4.0)), 1e-15);
  core::Hyperparameters hp = task.hyperparameters();
  hp.set("learning_rate", 0.123);
  task.set_hyperparameters(hp);
  EXPECT_DOUBLE_EQ(task.learning_rate_now(), 0.123);
  hp.set("beta1", 1.5);
  EXPECT_THROW(task.set_hyperparameters(hp), std::invalid_argument);
  hp.set("beta1", 0.9);
  hp.set("learnign_rate", 0.1);
  EXPECT_THROW(task.set_hyperparameters(hp), std::invalid_argument);
}

TEST(SupervisedTask, BadScheduleInConfigNamesTheKey) {
  try {
    tiny({"schedule.type=sgdr", "schedule.t_mult=1", "schedule.file=x"});
    tiny({"schedule.type=recorded", "schedule.file=/nonexistent.yaml"});
    FAIL();
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("schedule.file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace graybox::tasks
