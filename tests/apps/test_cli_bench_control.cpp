// A control method in graybox bench (the meta-controller of dac/): meta-trained once per
// benchmark before its cells, each cell a fit run deploying that policy at the same budget as the
// other methods' cells, the meta-training cost reported apart (results.md, meta_training.csv, the
// report), a killed meta-training continued rather than restarted, and bad input refused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/files.hpp"
#include "store/sqlite_store.hpp"
#include "tests/apps/cli.hpp"
#include "tests/apps/png_check.hpp"

namespace {

using namespace graybox_cli_test;
using nlohmann::json;

const std::string kTinyMeta = std::string(GRAYBOX_SOURCE_DIR) + "/configs/control/tiny.yaml";

// sklearn's digits, 160 examples per split, batch 32: 5 minibatches an epoch, 20 in all.
const char* kDigits =
    "seed: 1\ndata:\n  name: digits\n  limit: 160\nmodel:\n  type: mlp\n  widths: [16]\n"
    "optimizer:\n  name: sgd\n  lr: 0.05\n  momentum: 0.9\nschedule:\n  type: cosine\n  unit: epochs\n"
    "train:\n  epochs: 4\n  batch_size: 32\n";

class BenchControl : public Cli {
 protected:
  // A benchmark of a constant learning rate against the tiny meta-controller (`meta_set`: its
  // meta-training overrides) on the digits task; returns BENCH.yaml's path.
  std::string write_bench(const std::string& meta_set, const std::string& deploy_set = "[schedule.type=constant]") {
    write("in/digits.yaml", kDigits);
    return write("in/bench.yaml",
                 "seeds: 2\nbaseline: constant\nbudget: 20\nbudget_tolerance: 0.01\nparallel: 2\nbootstrap:\n  replicates: 300\n"
                 "tasks:\n  digits: {config: digits.yaml}\nmethods:\n"
                 "  constant: {command: fit, set: [schedule.type=constant]}\n"
                 "  learned: {command: control, config: " + kTinyMeta + ", set: " + meta_set + ", deploy_set: " + deploy_set + "}\n");
  }
  static json summary(const std::string& dir) { return json::parse(graybox::core::read_file(dir + "/summary.json")); }
};

TEST_F(BenchControl, AControlMethodMetaTrainsOnceAndEveryCellDeploysItsPolicy) {
  const std::string out = dir_ + "/b";
  const Result r = run("bench " + write_bench("[total_steps=32]") + " --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string meta = out + "/meta/learned", policy = meta + "/policy.pt";
  const json meta_summary = summary(meta);
  EXPECT_EQ(meta_summary["status"], "finished");
  EXPECT_EQ(meta_summary["control_steps"], 32);
  const std::int64_t meta_minibatches = meta_summary["minibatches"].get<std::int64_t>();
  EXPECT_GT(meta_minibatches, 0);

  // Every cell spent the task's 20 minibatches: the meta-training is not in a control cell's budget.
  graybox::store::SqliteStore store(out + "/store.sqlite");
  int learned = 0;
  for (const auto& row : store.trials()) {
    ASSERT_EQ(row.status, "done") << row.config;
    EXPECT_EQ(row.budget, 20) << row.config;
    const json key = json::parse(row.config);
    if (key["method"] != "learned") continue;
    ++learned;
    const std::string cell = out + "/" + key["dir"].get<std::string>();
    EXPECT_EQ(summary(cell)["controller"], policy) << cell;
    EXPECT_NE(graybox::core::read_file(cell + "/metrics.csv").find("control/learning_rate"), std::string::npos) << cell;
  }
  EXPECT_EQ(learned, 2);

  // The cost apart: the markdown on stdout and in results.md, and meta_training.csv.
  const std::string row = "| learned | finished | 32 | " + meta_summary["episodes"].dump() + " | " + std::to_string(meta_minibatches) + " |";
  EXPECT_NE(r.output.find(row), std::string::npos) << r.output;
  EXPECT_NE(graybox::core::read_file(out + "/results.md").find(row), std::string::npos);
  EXPECT_NE(graybox::core::read_file(out + "/meta_training.csv")
                .find("learned,finished,32," + meta_summary["episodes"].dump() + "," + std::to_string(meta_minibatches) + ","),
            std::string::npos);

  // A finished benchmark resumed meta-trains nothing again.
  const std::string log = graybox::core::read_file(out + "/logs/meta.learned.log");
  struct stat before {};
  ASSERT_EQ(::stat(policy.c_str(), &before), 0);
  const Result again = run("bench --resume --out " + out);
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("4 done, 0 to run"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("meta-training learned into"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find(row), std::string::npos) << again.output;
  struct stat after {};
  ASSERT_EQ(::stat(policy.c_str(), &after), 0);
  EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
  EXPECT_EQ(graybox::core::read_file(out + "/logs/meta.learned.log"), log);

  if (!matplotlib_present()) GTEST_SKIP() << "/usr/bin/python3 has no matplotlib (sudo apt-get install python3-matplotlib)";
  const Result report = run("report " + out);
  ASSERT_EQ(report.code, 0) << report.output;
  const std::string index = graybox::core::read_file(out + "/report/index.html");
  EXPECT_NE(index.find("<h2>Meta-training</h2>"), std::string::npos);
  EXPECT_NE(index.find("<td>" + std::to_string(meta_minibatches) + "</td>"), std::string::npos);
}

TEST_F(BenchControl, AKilledMetaTrainingContinuesFromItsCheckpoint) {
  const std::string out = dir_ + "/b", meta = out + "/meta/learned";
  const std::string bench = write_bench("[total_steps=2048, checkpoint.interval=32]");
  const Result started = shell("", std::string(GRAYBOX_BIN) + " bench " + bench + " --quiet --out " + out + " > " + dir_ +
                                       "/first.log 2>&1 & echo $!");
  const int pid = std::stoi(started.output);
  const auto has_checkpoint = [&] {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(meta + "/checkpoints", ec)) {
      if (e.path().filename().string().rfind("step_", 0) == 0) return true;
    }
    return false;
  };
  for (int k = 0; k < 600 && !has_checkpoint(); ++k) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(pid, SIGKILL);  // the meta-training gets SIGTERM from its dying parent and stops at a checkpoint
  ASSERT_TRUE(has_checkpoint()) << graybox::core::read_file(dir_ + "/first.log");

  const Result r = run("bench --resume --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  const json meta_summary = summary(meta);
  EXPECT_EQ(meta_summary["status"], "finished");
  EXPECT_EQ(meta_summary["control_steps"], 2048);
  // Continued from its checkpoint (a restart would have removed the directory, its store and its
  // events with it).
  graybox::store::SqliteStore store(meta + "/store.sqlite");
  EXPECT_EQ(store.count_events("resume"), 1);
  EXPECT_NE(r.output.find("| learned | finished | 2048 |"), std::string::npos) << r.output;
}

TEST_F(BenchControl, BadInputNamesTheFileAndTheField) {
  const std::string bench = write_bench("[total_steps=32]");
  const std::string text = graybox::core::read_file(bench);
  const auto expect_refused = [&](const std::string& yaml, const std::string& needle) {
    write("in/bad.yaml", yaml);
    const Result r = run("bench " + dir_ + "/in/bad.yaml --out " + dir_ + "/bad");
    EXPECT_EQ(r.code, 2) << yaml << "\n" << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << needle << "\n" << r.output;
    EXPECT_FALSE(fs::exists(dir_ + "/bad/store.sqlite"));
    EXPECT_FALSE(fs::exists(dir_ + "/bad/meta"));
  };
  const auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  // The deployed run's schedule would multiply the policy's learning rate.
  expect_refused(replaced("deploy_set: [schedule.type=constant]", "deploy_set: []"),
                 "methods.learned on tasks.digits: " + dir_ + "/bad/tasks/digits.yaml:36:3: schedule.type: controller.policy");
  expect_refused(replaced("deploy_set: [schedule.type=constant]", "deploy_set: [schedule.type=constant, schedule.warmup=1]"),
                 "schedule.warmup");
  expect_refused(replaced("set: [total_steps=32]", "set: [agent.bogus=1]"), "agent.bogus");
  expect_refused(replaced("config: " + kTinyMeta + ", ", ""), "methods.learned.config: required");
  expect_refused(replaced("{command: fit, set: [schedule.type=constant]}", "{command: fit, deploy_set: [schedule.type=constant]}"),
                 "methods.constant.deploy_set: only a control method deploys a policy");
  const std::string train_task = std::string(GRAYBOX_SOURCE_DIR) + "/configs/train/ppo_inverted_pendulum.yaml";
  expect_refused(replaced("{command: fit, set: [schedule.type=constant]}", "{command: train}").replace(
                     text.find("config: digits.yaml"), 19, "config: " + train_task),
                 "a control method deploys an lr/wd policy on a supervised (fit) task");
}

}  // namespace
