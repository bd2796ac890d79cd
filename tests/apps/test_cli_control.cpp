// `graybox control train` end to end on the shipped tiny config: the run directory and
// policy.pt, a resumed run equal to a straight one, Ctrl-C, and bad input (exit 2 naming the
// file and the field).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <sstream>
#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "store/sqlite_store.hpp"
#include "tests/apps/cli.hpp"

namespace graybox_cli_test {
namespace {

using graybox::core::read_file;

const std::string kTiny = std::string(GRAYBOX_SOURCE_DIR) + "/configs/control/tiny.yaml";

nlohmann::json summary_of(const std::string& run_dir) { return nlohmann::json::parse(read_file(run_dir + "/summary.json")); }

TEST_F(Cli, ControlTrainWritesARunDirectoryAndAPolicy) {
  const std::string out = dir_ + "/meta";
  const Result r = run("control train " + kTiny + " --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("meta-training cost: 640 minibatches"), std::string::npos) << r.output;
  for (const char* file : {"config.yaml", "store.sqlite", "metrics.csv", "summary.json", "policy.pt", "checkpoints/latest"}) {
    EXPECT_TRUE(fs::exists(out + "/" + file)) << file;
  }
  const auto summary = summary_of(out);
  EXPECT_EQ(summary["status"], "finished");
  EXPECT_EQ(summary["control_steps"], 64);
  EXPECT_EQ(summary["minibatches"], 640);  // 16 episodes of 40 minibatches
  EXPECT_EQ(summary["episodes"], 16);
  graybox::store::SqliteStore store(out + "/store.sqlite");
  EXPECT_EQ(store.metrics(0, "charts/episodic_return").size(), 16u);
  EXPECT_FALSE(store.metrics(0, "losses/policy_loss").empty());
}

TEST_F(Cli, ControlTrainResumedEqualsStraight) {
  // anneal_lr off: PPO's annealing reads total_steps, which the split run changes on resume.
  const std::string common = " --quiet --set agent.anneal_lr=false";
  ASSERT_EQ(run("control train " + kTiny + common + " --out " + dir_ + "/straight").code, 0);
  ASSERT_EQ(run("control train " + kTiny + common + " --set total_steps=32 --out " + dir_ + "/split").code, 0);
  const Result r = run("control train --resume --quiet --set total_steps=64 --out " + dir_ + "/split");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(read_file(dir_ + "/straight/policy.pt"), read_file(dir_ + "/split/policy.pt"));
  EXPECT_EQ(summary_of(dir_ + "/straight")["final_return"], summary_of(dir_ + "/split")["final_return"]);
  graybox::store::SqliteStore a(dir_ + "/straight/store.sqlite"), b(dir_ + "/split/store.sqlite");
  for (const char* metric : {"charts/episodic_return", "control/final_val_loss", "losses/value_loss"}) {
    const auto ra = a.metrics(0, metric), rb = b.metrics(0, metric);
    ASSERT_EQ(ra.size(), rb.size()) << metric;
    for (std::size_t i = 0; i < ra.size(); ++i) EXPECT_EQ(ra[i].value, rb[i].value) << metric << " " << i;
  }
}

TEST_F(Cli, ControlTrainStopsOnCtrlCWithACheckpointAndResumes) {
  const std::string out = dir_ + "/stopped";
  const std::string log = dir_ + "/stopped.log";
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!std::freopen(log.c_str(), "w", stderr)) ::_exit(126);
    ::execl(GRAYBOX_BIN, GRAYBOX_BIN, "control", "train", kTiny.c_str(), "--quiet", "--set", "total_steps=100000",
            "--out", out.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 400 && !fs::exists(out + "/checkpoints/latest"); ++i) ::usleep(50000);
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130) << read_file(log);
  EXPECT_NE(read_file(log).find("continue with: graybox control train --resume --out " + out), std::string::npos);
  const auto stopped = summary_of(out);
  EXPECT_EQ(stopped["status"], "stopped");
  EXPECT_TRUE(fs::exists(out + "/policy.pt"));
  const long long at = stopped["control_steps"].get<long long>();
  const Result r = run("control train --resume --quiet --set total_steps=" + std::to_string(at + 32) + " --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(summary_of(out)["status"], "finished");
  EXPECT_EQ(summary_of(out)["control_steps"].get<long long>(), at + 32);
}

TEST_F(Cli, ControlTrainBadInputNamesTheFileAndTheField) {
  const std::string bad_key = write("bad_key.yaml", "control:\n  instances: " + std::string(GRAYBOX_SOURCE_DIR) +
                                                        "/configs/control/tiny_instances.yaml\ndac:\n  control_intervall: 5\n");
  Result r = run("control train " + bad_key + " --out " + dir_ + "/a");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("bad_key.yaml"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dac.control_intervall"), std::string::npos) << r.output;

  const std::string range = write("range.yaml", "dac:\n  max_log10_change: 5\n");
  r = run("control train " + range + " --out " + dir_ + "/b");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("dac.max_log10_change"), std::string::npos) << r.output;

  const std::string missing = write("missing.yaml", "control:\n  instances: nowhere.yaml\n");
  r = run("control train " + missing + " --out " + dir_ + "/c");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("control.instances"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("nowhere.yaml"), std::string::npos) << r.output;

  const std::string broken_set = write("set.yaml", "train:\n  - name: a\n    budgett: 3\ntest: []\n");
  const std::string uses = write("uses.yaml", "control:\n  instances: set.yaml\n");
  r = run("control train " + uses + " --out " + dir_ + "/d");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("set.yaml:3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("budgett"), std::string::npos) << r.output;

  r = run("control train " + kTiny + " --set total_steps=8 --out " + dir_ + "/e");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("total_steps"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ + "/e/config.yaml"));
}

TEST_F(Cli, ShippedControlConfigsRunClean) {
  for (const auto& entry : fs::directory_iterator(std::string(GRAYBOX_SOURCE_DIR) + "/configs/control")) {
    const std::string file = entry.path().string();
    if (entry.path().extension() != ".yaml" || file.find("instances") != std::string::npos) continue;  // instance sets
    const std::string out = dir_ + "/" + entry.path().stem().string();
    // One rollout of two control steps in one env, then one PPO update.
    const Result r = run("control train " + file +
                         " --quiet --set control.num_envs=1 --set agent.num_steps=2 --set agent.num_minibatches=1"
                         " --set total_steps=2 --out " + out);
    ASSERT_EQ(r.code, 0) << file << ": " << r.output;
    EXPECT_EQ(summary_of(out)["status"], "finished") << file;
    EXPECT_TRUE(fs::exists(out + "/policy.pt")) << file;
  }
}

}  // namespace
}  // namespace graybox_cli_test

namespace graybox_cli_test {
namespace {

const char* kTinyFit =
    "seed: 3\n"
    "data:\n"
    "  name: teacher_student\n"
    "  split_seed: 1\n"
    "  teacher: {dim: 8, hidden: 16, classes: 3, examples: 600}\n"
    "model: {type: mlp, widths: [16]}\n"
    "optimizer: {name: sgd, momentum: 0.9, lr: 0.05, weight_decay: 1.0e-3}\n"
    "train: {epochs: 3, batch_size: 32}\n";

std::vector<double> values(const std::string& run_dir, const std::string& metric) {
  graybox::store::SqliteStore store(run_dir + "/store.sqlite");
  std::vector<double> out;
  for (const auto& row : store.metrics(0, metric)) out.push_back(row.value);
  return out;
}

TEST_F(Cli, FitWithAPolicyLogsItsValuesAndItsScheduleReplaysTheRun) {
  ASSERT_EQ(run("control train " + kTiny + " --quiet --out " + dir_ + "/meta").code, 0);
  const std::string fit = write("fit.yaml", kTinyFit);
  const Result r = run("fit " + fit + " --set controller.policy=" + dir_ + "/meta/policy.pt --out " + dir_ + "/steered");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("every 10 minibatches"), std::string::npos) << r.output;
  // 42 minibatches (3 epochs of 14): lr and wd logged at every one, the controller's values at
  // each of the 5 control steps (10, 10, 10, 10, 2).
  const auto lr = values(dir_ + "/steered", "charts/learning_rate");
  ASSERT_EQ(lr.size(), 42u);
  EXPECT_EQ(values(dir_ + "/steered", "charts/weight_decay").size(), 42u);
  const auto controlled = values(dir_ + "/steered", "control/learning_rate");
  ASSERT_EQ(controlled.size(), 5u);
  for (std::size_t i = 0; i < lr.size(); ++i) EXPECT_EQ(lr[i], controlled[i / 10]) << i;
  EXPECT_NE(controlled.front(), 0.05);  // the policy moved it
  for (const char* file : {"learning_rate.yaml", "weight_decay.yaml", "controller.yaml"}) {
    EXPECT_TRUE(fs::exists(dir_ + "/steered/schedules/" + file)) << file;
  }
  // The trajectory replayed without the policy: the same run.
  const Result replay = run("fit " + fit + " --quiet --set replay.file=" + dir_ + "/steered/schedules/controller.yaml --out " +
                            dir_ + "/replayed");
  ASSERT_EQ(replay.code, 0) << replay.output;
  EXPECT_EQ(values(dir_ + "/steered", "train/loss"), values(dir_ + "/replayed", "train/loss"));
  EXPECT_EQ(summary_of(dir_ + "/steered")["test_loss"], summary_of(dir_ + "/replayed")["test_loss"]);
}

TEST_F(Cli, AnLrOnlyPolicysTrajectoryReplaysAsARecordedSchedule) {
  ASSERT_EQ(run("control train " + kTiny + " --quiet --set dac.control_weight_decay=false --out " + dir_ + "/meta").code, 0);
  const std::string fit = write("fit.yaml", kTinyFit);
  ASSERT_EQ(run("fit " + fit + " --quiet --set controller.policy=" + dir_ + "/meta/policy.pt --out " + dir_ + "/steered").code, 0);
  const Result replay = run("fit " + fit + " --quiet --set schedule.type=recorded --set schedule.unit=steps --set optimizer.lr=1"
                            " --set schedule.file=" + dir_ + "/steered/schedules/learning_rate.yaml --out " + dir_ + "/recorded");
  ASSERT_EQ(replay.code, 0) << replay.output;
  EXPECT_EQ(values(dir_ + "/steered", "charts/learning_rate"), values(dir_ + "/recorded", "charts/learning_rate"));
  EXPECT_EQ(values(dir_ + "/steered", "train/loss"), values(dir_ + "/recorded", "train/loss"));
  EXPECT_EQ(summary_of(dir_ + "/steered")["test_loss"], summary_of(dir_ + "/recorded")["test_loss"]);
}

// The schedule multiplies the learning rate the policy sets: a warm-up in front of the constant
// schedule would scale the policy's first choices down, so it is refused like any other schedule.
TEST_F(Cli, FitWithAPolicyRefusesAScheduleOrAWarmUpThatWouldScaleIt) {
  ASSERT_EQ(run("control train " + kTiny + " --quiet --out " + dir_ + "/meta").code, 0);
  const std::string fit = write("fit.yaml", kTinyFit);
  const std::string policy = " --set controller.policy=" + dir_ + "/meta/policy.pt";
  const std::vector<std::string> sets = {" --set schedule.warmup=0.5", " --set schedule.type=cosine", " --set schedule.value=0.5"};
  for (const auto& set : sets) {
    const Result r = run("fit " + fit + policy + set + " --out " + dir_ + "/x");
    EXPECT_EQ(r.code, 2) << set << "\n" << r.output;
    EXPECT_NE(r.output.find(set.substr(7, set.find('=') - 7)), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir_ + "/x/config.yaml")) << set;
  }
}

TEST_F(Cli, FitWithAMissingOrBrokenPolicyIsExit2NamingThePath) {
  const std::string fit = write("fit.yaml", kTinyFit);
  const std::string broken = write("broken.pt", "not a policy");
  for (const std::string& path : {dir_ + "/absent.pt", broken}) {
    const Result r = run("fit " + fit + " --set controller.policy=" + path + " --out " + dir_ + "/x");
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find(path), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("controller.policy"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir_ + "/x/config.yaml"));
  }
}

}  // namespace
}  // namespace graybox_cli_test

namespace graybox_cli_test {
namespace {

TEST_F(Cli, ControlEvalComparesThePolicyWithTheBaselinesOnTheTestInstances) {
  ASSERT_EQ(run("control train " + kTiny + " --quiet --out " + dir_ + "/meta").code, 0);
  const Result r = run("control eval " + kTiny + " --set eval.policy=" + dir_ + "/meta/policy.pt --set eval.seeds=2"
                       " --set eval.tune_trials=2 --set eval.tune_searcher=random");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* text : {"ts_tiny_wide_sgd", "policy", "constant", "step", "cosine", "sgdr", "warmup_cosine", "random",
                           "avg rank", "meta-training cost: 640 minibatches in 64 control steps", "baseline tuning"}) {
    EXPECT_NE(r.output.find(text), std::string::npos) << text << "\n" << r.output;
  }
  const std::string csv = read_file(dir_ + "/meta/control_eval.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 7 * 2) << csv;  // header, 7 methods x 1 instance x 2 seeds
  // The same command gives the same numbers.
  const Result again = run("control eval " + kTiny + " --set eval.policy=" + dir_ + "/meta/policy.pt --set eval.seeds=2"
                           " --set eval.tune_trials=2 --set eval.tune_searcher=random --set eval.csv=" + dir_ + "/again.csv");
  ASSERT_EQ(again.code, 0) << again.output;
  const auto losses = [](const std::string& text) {
    std::string out;
    std::istringstream in(text);
    for (std::string row; std::getline(in, row);) out += row.substr(0, row.rfind(',')) + "\n";  // without the seconds
    return out;
  };
  EXPECT_EQ(losses(csv), losses(read_file(dir_ + "/again.csv")));

  const Result missing = run("control eval " + kTiny);
  EXPECT_EQ(missing.code, 2) << missing.output;
  EXPECT_NE(missing.output.find("eval.policy"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace graybox_cli_test

namespace graybox_cli_test {
namespace {

// eval.baselines: the first eval writes the baselines' results, a second reads them (without
// tuning or running a baseline) and prints the same numbers; a file for other inputs or a broken
// one is exit 2 naming it.
TEST_F(Cli, ControlEvalKeepsTheBaselinesInAFileForTheNextPolicy) {
  ASSERT_EQ(run("control train " + kTiny + " --quiet --out " + dir_ + "/meta").code, 0);
  const std::string eval = "control eval " + kTiny + " --set eval.policy=" + dir_ + "/meta/policy.pt --set eval.seeds=2" +
                           " --set eval.tune_trials=2 --set eval.tune_searcher=random --set eval.baselines=" + dir_ +
                           "/baselines.json";
  const Result first = run(eval + " --set eval.csv=" + dir_ + "/first.csv");
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_EQ(first.output.find("read from"), std::string::npos) << first.output;
  const auto kept = nlohmann::json::parse(read_file(dir_ + "/baselines.json"));
  EXPECT_EQ(kept.at("runs").size(), 6u * 2u);  // 6 baselines x 1 test instance x 2 seeds
  EXPECT_EQ(kept.at("inputs").at("seeds"), 2);

  const Result second = run(eval + " --set eval.csv=" + dir_ + "/second.csv");
  ASSERT_EQ(second.code, 0) << second.output;
  EXPECT_NE(second.output.find("read from " + dir_ + "/baselines.json"), std::string::npos) << second.output;
  // The tables and the tuned factors are the same (the cost line has the policy's seconds).
  const auto tables = [](const std::string& text) {
    const std::size_t from = text.find("final test loss");
    return text.substr(from, text.find("cost: ") - from);
  };
  EXPECT_EQ(tables(first.output), tables(second.output));
  const auto baseline_rows = [](const std::string& csv) {
    std::string out;
    std::istringstream in(csv);
    for (std::string row; std::getline(in, row);) {
      if (row.rfind("policy,", 0) != 0) out += row + "\n";
    }
    return out;
  };
  EXPECT_EQ(baseline_rows(read_file(dir_ + "/first.csv")), baseline_rows(read_file(dir_ + "/second.csv")));

  // A policy trained with another action mode uses the same file: random control acts through
  // the eval config's dac keys, not the policy's.
  ASSERT_EQ(run("control train " + kTiny + " --quiet --set dac.action_mode=relative --out " + dir_ + "/relative").code, 0);
  std::string relative_eval = eval;
  relative_eval.replace(relative_eval.find(dir_ + "/meta/policy.pt"), (dir_ + "/meta").size(), dir_ + "/relative");
  const Result third = run(relative_eval + " --set eval.csv=" + dir_ + "/third.csv");
  ASSERT_EQ(third.code, 0) << third.output;
  EXPECT_NE(third.output.find("read from " + dir_ + "/baselines.json"), std::string::npos) << third.output;
  EXPECT_EQ(baseline_rows(read_file(dir_ + "/first.csv")), baseline_rows(read_file(dir_ + "/third.csv")));
  const Result other_mode = run(eval + " --set dac.action_mode=absolute");
  EXPECT_EQ(other_mode.code, 2) << other_mode.output;
  EXPECT_NE(other_mode.output.find("first difference: control.action_mode"), std::string::npos) << other_mode.output;

  const Result other = run(eval + " --set eval.tune_trials=3");
  EXPECT_EQ(other.code, 2) << other.output;
  EXPECT_NE(other.output.find("baselines.json: computed for other inputs (first difference: tune.trials)"), std::string::npos)
      << other.output;
  EXPECT_NE(other.output.find("eval.baselines"), std::string::npos) << other.output;

  graybox::core::write_file_atomic(dir_ + "/baselines.json", "{\"format\": 1, \"inputs\": ");
  const Result broken = run(eval);
  EXPECT_EQ(broken.code, 2) << broken.output;
  EXPECT_NE(broken.output.find("baselines.json: not a baselines file"), std::string::npos) << broken.output;
}

TEST_F(Cli, AControlEvalContinuesTheBaselinesFileAnUnfinishedOneLeft) {
  ASSERT_EQ(run("control train " + kTiny + " --quiet --out " + dir_ + "/meta").code, 0);
  const std::string eval = "control eval " + kTiny + " --set eval.policy=" + dir_ + "/meta/policy.pt --set eval.seeds=2" +
                           " --set eval.tune_trials=3 --set eval.baselines=";
  const Result straight = run(eval + dir_ + "/straight.json --set eval.csv=" + dir_ + "/straight.csv");
  ASSERT_EQ(straight.code, 0) << straight.output;
  const auto whole = nlohmann::json::parse(read_file(dir_ + "/straight.json"));
  EXPECT_TRUE(whole.at("complete").get<bool>());
  ASSERT_EQ(whole.at("trials").at("cosine").at("sgd").size(), 3u);

  // What an eval killed in the middle leaves: the file as written after a tuning trial or a
  // test run, "complete" false. Here: cosine's SGD tuning stopped after 1 of its 3 trials,
  // step's AdamW tuning not started, the test runs not started.
  nlohmann::json cut = whole;
  cut["complete"] = false;
  cut["trials"]["cosine"]["sgd"] = nlohmann::json::array({whole["trials"]["cosine"]["sgd"][0]});
  cut["tuned"]["cosine"].erase("sgd");
  cut["trials"]["step"].erase("adamw");
  cut["tuned"]["step"].erase("adamw");
  cut["runs"] = nlohmann::json::array();
  graybox::core::write_file_atomic(dir_ + "/cut.json", cut.dump(1));
  const Result tuned_part = run(eval + dir_ + "/cut.json --set eval.csv=" + dir_ + "/tuned_part.csv");
  ASSERT_EQ(tuned_part.code, 0) << tuned_part.output;
  EXPECT_NE(tuned_part.output.find("continued from the file an earlier, unfinished eval wrote (31 tuning trials and 0 test runs"),
            std::string::npos)
      << tuned_part.output;  // 6 baselines x 2 optimizers x 3 trials, less 2 and 3

  // Half the test runs done as well.
  nlohmann::json half = whole;
  half["complete"] = false;
  half["runs"] = nlohmann::json::array();
  for (std::size_t i = 0; i < whole["runs"].size(); i += 2) half["runs"].push_back(whole["runs"][i]);
  graybox::core::write_file_atomic(dir_ + "/half.json", half.dump(1));
  const Result runs_part = run(eval + dir_ + "/half.json --set eval.csv=" + dir_ + "/runs_part.csv");
  ASSERT_EQ(runs_part.code, 0) << runs_part.output;
  EXPECT_NE(runs_part.output.find("(36 tuning trials and 6 test runs"), std::string::npos) << runs_part.output;

  // Both end as the uninterrupted eval: the same tables, tuned factors and baseline runs, and
  // a complete file with the same results.
  const auto tables = [](const std::string& text) {
    const std::size_t from = text.find("final test loss");
    return text.substr(from, text.find("cost: ") - from);
  };
  const auto results = [](const std::string& csv) {  // every column but the seconds
    std::string out;
    std::istringstream in(csv);
    for (std::string row; std::getline(in, row);) out += row.substr(0, row.rfind(',')) + "\n";
    return out;
  };
  for (const std::string name : {"cut", "half"}) {
    SCOPED_TRACE(name);
    const auto ended = nlohmann::json::parse(read_file(dir_ + "/" + name + ".json"));
    EXPECT_TRUE(ended.at("complete").get<bool>());
    EXPECT_EQ(ended.at("tuned"), whole.at("tuned"));
    EXPECT_EQ(ended.at("trials"), whole.at("trials"));
    EXPECT_EQ(ended.at("tuning_minibatches"), whole.at("tuning_minibatches"));
    EXPECT_EQ(ended.at("runs").size(), whole.at("runs").size());
  }
  EXPECT_EQ(tables(straight.output), tables(tuned_part.output));
  EXPECT_EQ(tables(straight.output), tables(runs_part.output));
  EXPECT_EQ(results(read_file(dir_ + "/straight.csv")), results(read_file(dir_ + "/tuned_part.csv")));
  EXPECT_EQ(results(read_file(dir_ + "/straight.csv")), results(read_file(dir_ + "/runs_part.csv")));

  // Recorded trials that this eval's tuning would not propose (another searcher's) are exit 2.
  nlohmann::json other = cut;
  other["trials"]["cosine"]["sgd"][0]["lr_factor"] = 1.2345;
  graybox::core::write_file_atomic(dir_ + "/other.json", other.dump(1));
  const Result refused = run(eval + dir_ + "/other.json");
  EXPECT_EQ(refused.code, 2) << refused.output;
  EXPECT_NE(refused.output.find("other.json: the recorded tuning of cosine (sgd) does not continue: trial 1 proposes"),
            std::string::npos)
      << refused.output;
}

TEST_F(Cli, AControlledFitStoppedByCtrlCResumesToTheSameRun) {
  ASSERT_EQ(run("control train " + kTiny + " --quiet --out " + dir_ + "/meta").code, 0);
  // 20000 examples: 500 minibatches per epoch, long enough to stop in the middle.
  std::string text = kTinyFit;
  text.replace(text.find("examples: 600"), 13, "examples: 20000");
  text += "checkpoint: {interval: 100}\n";
  const std::string fit = write("fit.yaml", text);
  const std::string policy = "controller.policy=" + dir_ + "/meta/policy.pt";
  ASSERT_EQ(run("fit " + fit + " --quiet --set " + policy + " --out " + dir_ + "/straight").code, 0);
  const std::string out = dir_ + "/stopped";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(GRAYBOX_BIN, GRAYBOX_BIN, "fit", fit.c_str(), "--quiet", "--set", policy.c_str(), "--out", out.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 400 && !fs::exists(out + "/checkpoints/latest"); ++i) ::usleep(10000);
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  const int code = WEXITSTATUS(status);
  ASSERT_TRUE(code == 130 || code == 0) << code;  // 0: it finished before the signal
  const Result r = run("fit --resume --quiet --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(summary_of(dir_ + "/straight")["test_loss"], summary_of(out)["test_loss"]);
  EXPECT_EQ(values(dir_ + "/straight", "control/learning_rate"), values(out, "control/learning_rate"));
  EXPECT_EQ(values(dir_ + "/straight", "train/loss"), values(out, "train/loss"));
}

}  // namespace
}  // namespace graybox_cli_test
