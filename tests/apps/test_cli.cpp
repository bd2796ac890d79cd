// The graybox executable end to end: every bad input is a clear message and exit code 2; a
// tiny training run writes a complete run directory; --resume continues; eval reports.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>
#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "tests/apps/cli.hpp"
#include "store/sqlite_store.hpp"

namespace fs = std::filesystem;

namespace {

using namespace graybox_cli_test;

TEST_F(Cli, Version) {
  const Result r = run("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("graybox"), std::string::npos);
}

TEST_F(Cli, EverySubcommandHelpShowsAnExample) {
  for (const char* sub : {"train", "fit", "eval", "tune", "lineage", "envs", "keys"}) {
    const Result r = run(std::string(sub) + " --help");
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_NE(r.output.find("Example"), std::string::npos) << sub;
  }
}

TEST_F(Cli, EnvsListsTheTasksAsJson) {
  const Result r = run("envs --json");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto list = nlohmann::json::parse(r.output);
  bool found = false;
  for (const auto& env : list) {
    if (env["id"] == "Hopper-v5") {
      found = true;
      EXPECT_EQ(env["obs_dim"], 11);
      EXPECT_EQ(env["act_dim"], 3);
    }
  }
  EXPECT_TRUE(found);
}

// Issue 10, "what a new user reaches for": every key, its type, default, range and doc.
TEST_F(Cli, KeysListsEveryConfigKey) {
  Result r = run("keys train --json");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto keys = nlohmann::json::parse(r.output);
  ASSERT_TRUE(keys.contains("train"));
  EXPECT_FALSE(keys.contains("fit"));
  bool found = false;
  for (const auto& k : keys["train"]) {
    if (k["key"] != "agent.learning_rate") continue;
    found = true;
    EXPECT_EQ(k["type"], "float");
    EXPECT_EQ(k["default"], "0.0003");
    EXPECT_EQ(k["max"], 1.0);
    EXPECT_EQ(k["min_exclusive"], true);
  }
  EXPECT_TRUE(found) << r.output;
  r = run("keys");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* text : {"graybox train keys:", "graybox fit keys:", "graybox tune keys:", "tune.parallel",
                           "optimizer.lr", "env.model_path", "relative to the file that names it"}) {
    EXPECT_NE(r.output.find(text), std::string::npos) << text;
  }
  r = run("keys bogus");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("not one of: train, fit, tune"), std::string::npos) << r.output;
}

TEST_F(Cli, UnknownSubcommandOrFlagIsExitCode2) {
  EXPECT_EQ(run("fly").code, 2);
  EXPECT_EQ(run("train --frobnicate").code, 2);
}

TEST_F(Cli, MissingConfigFile) {
  const Result r = run("train " + dir_ + "/nope.yaml --out " + dir_ + "/run");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("nope.yaml"), std::string::npos) << r.output;
}

TEST_F(Cli, MalformedYaml) {
  const Result r = run("train " + write("bad.yaml", "seed: 1\nenv: {id: Hopper-v5\n") + " --out " + dir_ + "/run");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("bad.yaml:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("malformed YAML"), std::string::npos) << r.output;
}

TEST_F(Cli, UnknownKeySuggestsTheClosest) {
  const Result r = run("train " + write("typo.yaml", "agent:\n  gae_lamda: 0.9\n") + " --out " + dir_ + "/run");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("typo.yaml:2:3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean 'agent.gae_lambda'"), std::string::npos) << r.output;
}

TEST_F(Cli, WrongTypeAndOutOfRange) {
  Result r = run("train " + write("type.yaml", "total_steps: lots\n") + " --out " + dir_ + "/run");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("total_steps"), std::string::npos) << r.output;
  r = run("train " + write("range.yaml", "agent:\n  gamma: -0.1\n") + " --out " + dir_ + "/run");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("range.yaml:2:3: agent.gamma"), std::string::npos) << r.output;
  r = run("train " + write("ok.yaml", "seed: 1\n") + " --set agent.clip_coef=-1 --out " + dir_ + "/run");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("--set agent.clip_coef"), std::string::npos) << r.output;
}

TEST_F(Cli, UnknownEnvListsTheKnownOnes) {
  const Result r = run("train " + write("env.yaml", "env:\n  id: Hopper-v9\n") + " --out " + dir_ + "/run");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("Hopper-v9"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("HalfCheetah-v5"), std::string::npos) << r.output;
}

TEST_F(Cli, BrokenModelFiles) {
  const std::string garbage = write("garbage.xml", "<mujoco><worldbody><body></mujoco>");
  Result r = run("train " + write("m1.yaml", "env:\n  id: Hopper-v5\n  model_path: " + garbage + "\n") +
                 " --out " + dir_ + "/run");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("garbage.xml"), std::string::npos) << r.output;
  const std::string no_joint = write("nojoint.xml",
      "<mujoco><worldbody><body name='torso'><joint name='rootx' type='slide'/>"
      "<geom type='sphere' size='0.1'/></body></worldbody></mujoco>");
  r = run("train " + write("m2.yaml", "env:\n  id: Hopper-v5\n  model_path: " + no_joint + "\n") +
          " --out " + dir_ + "/run");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("nojoint.xml"), std::string::npos) << r.output;
}

TEST_F(Cli, TrainWritesACompleteRunDirectoryAndEvalUpdatesIt) {
  const std::string run_dir = dir_ + "/run";
  const Result r = run("train " + write("tiny.yaml", kTinyConfig) + " --quiet --out " + run_dir);
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* file : {"config.yaml", "store.sqlite", "metrics.csv", "summary.json", "checkpoints/latest"}) {
    EXPECT_TRUE(fs::exists(run_dir + "/" + file)) << file;
  }
  const auto summary = nlohmann::json::parse(graybox::core::read_file(run_dir + "/summary.json"));
  EXPECT_EQ(summary["total_steps"], 1024);
  for (const char* key : {"final_return", "eval_return_mean", "eval_return_std", "sps", "wall_seconds"}) {
    EXPECT_TRUE(summary.contains(key)) << key;
  }
  // The resolved config holds every default and trains again as it is.
  const std::string resolved = graybox::core::read_file(run_dir + "/config.yaml");
  EXPECT_NE(resolved.find("clip_coef: 0.2"), std::string::npos) << resolved;
  {
    graybox::store::SqliteStore store(run_dir + "/store.sqlite");
    EXPECT_EQ(store.metrics(0, "charts/learning_rate").size(), 4u);
    EXPECT_FALSE(store.metrics(0, "charts/episodic_return").empty());
  }
  const Result e = run("eval " + run_dir + " --episodes 3 --json");
  ASSERT_EQ(e.code, 0) << e.output;
  const auto eval = nlohmann::json::parse(e.output);
  EXPECT_EQ(eval["returns"].size(), 3u);
  const auto updated = nlohmann::json::parse(graybox::core::read_file(run_dir + "/summary.json"));
  EXPECT_EQ(updated["eval_episodes"], 3);
  EXPECT_DOUBLE_EQ(updated["eval_return_mean"].get<double>(), eval["return_mean"].get<double>());
}

// Issue 10 item 12: a run stopped at 512 steps and resumed to 1024 reaches the same metrics,
// value for value, as one trained straight to 1024 (a constant learning rate, so that the
// first half does not depend on the total).
TEST_F(Cli, ResumeContinuesAStoppedRunToTheSameResult) {
  const std::string config = write("tiny.yaml", kTinyConfig);
  const std::string same = " --quiet --set agent.anneal_lr=false --set eval.episodes=0";
  ASSERT_EQ(run("train " + config + same + " --out " + dir_ + "/straight").code, 0);
  ASSERT_EQ(run("train " + config + same + " --set total_steps=512 --out " + dir_ + "/split").code, 0);
  // Resuming re-reads the run's resolved config; total_steps comes from --set.
  const Result r = run("train --resume" + same + " --set total_steps=1024 --out " + dir_ + "/split");
  ASSERT_EQ(r.code, 0) << r.output;
  graybox::store::SqliteStore a(dir_ + "/straight/store.sqlite"), b(dir_ + "/split/store.sqlite");
  std::vector<graybox::core::MetricRow> ra, rb;
  for (const auto& row : a.metrics(0)) if (row.name != "charts/SPS") ra.push_back(row);
  for (const auto& row : b.metrics(0)) if (row.name != "charts/SPS") rb.push_back(row);
  ASSERT_EQ(a.metrics(0, "losses/value_loss").size(), 4u);
  ASSERT_EQ(ra.size(), rb.size());
  for (std::size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ra[i].step, rb[i].step) << i;
    EXPECT_EQ(ra[i].name, rb[i].name) << i;
    EXPECT_DOUBLE_EQ(ra[i].value, rb[i].value) << ra[i].name << " at step " << ra[i].step;
  }
  const auto sa = nlohmann::json::parse(graybox::core::read_file(dir_ + "/straight/summary.json"));
  const auto sb = nlohmann::json::parse(graybox::core::read_file(dir_ + "/split/summary.json"));
  EXPECT_EQ(sa["final_return"], sb["final_return"]);
  EXPECT_EQ(sa["episodes"], sb["episodes"]);
}

TEST_F(Cli, AKilledRunLeavesAStoreThatOpensAndACheckpointThatLoads) {
  const std::string config = write("long.yaml", kTinyConfig);
  const std::string run_dir = dir_ + "/killed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(GRAYBOX_BIN, GRAYBOX_BIN, "train", config.c_str(), "--quiet", "--set", "total_steps=200000",
            "--set", "checkpoint.interval=256", "--out", run_dir.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Kill it hard once it has written a few checkpoints (or after 20 s at most).
  for (int i = 0; i < 200; ++i) {
    ::usleep(100000);
    if (fs::exists(run_dir + "/checkpoints/latest") && graybox::core::read_file(run_dir + "/checkpoints/latest") >= "step_000000001024") break;
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  {
    graybox::store::SqliteStore store(run_dir + "/store.sqlite");
    EXPECT_FALSE(store.metrics(0, "losses/value_loss").empty());
  }
  const Result e = run("eval " + run_dir + " --episodes 1 --json");
  ASSERT_EQ(e.code, 0) << e.output;
  const Result r = run("train --resume --quiet --set total_steps=2048 --set eval.episodes=1 --out " + run_dir);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto summary = nlohmann::json::parse(graybox::core::read_file(run_dir + "/summary.json"));
  EXPECT_EQ(summary["status"], "finished");
  EXPECT_GE(summary["total_steps"].get<long long>(), 2048);
}

TEST_F(Cli, TuneWritesSummaryBestConfigAndHistory) {
  const std::string config = write("branin.yaml",
      "seed: 2\ntask: branin_mf\ntune:\n  algorithm: bohb\n  max_budget: 9\n"
      "search_space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n");
  const Result r = run("tune " + config + " --out " + dir_ + "/t");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto summary = nlohmann::json::parse(graybox::core::read_file(dir_ + "/t/summary.json"));
  for (const char* key : {"best_score", "best_config", "trials", "total_budget"}) {
    EXPECT_TRUE(summary.contains(key)) << key;
  }
  EXPECT_TRUE(summary["best_config"].contains("x1"));
  EXPECT_TRUE(fs::exists(dir_ + "/t/best.yaml"));
  EXPECT_NE(graybox::core::read_file(dir_ + "/t/history.csv").find("trial,budget,objective"), std::string::npos);
  // Resuming a finished experiment changes nothing.
  const Result again = run("tune --resume --quiet --out " + dir_ + "/t");
  ASSERT_EQ(again.code, 0) << again.output;
  const auto after = nlohmann::json::parse(graybox::core::read_file(dir_ + "/t/summary.json"));
  EXPECT_EQ(after["best_score"], summary["best_score"]);
  EXPECT_EQ(after["results"], summary["results"]);
  // A synthetic objective has no checkpoint to evaluate: a clear message.
  const Result e = run("eval " + dir_ + "/t");
  EXPECT_EQ(e.code, 2) << e.output;
  EXPECT_NE(e.output.find("nothing to evaluate"), std::string::npos) << e.output;
}

TEST_F(Cli, TuneKilledMidExperimentResumesToTheSameResult) {
  const std::string config = write("hb.yaml",
      "seed: 4\ntask: hartmann6_mf\ntune:\n  algorithm: bohb\n  max_budget: 27\n  iterations: 8\n  parallel: 2\n"
      "search_space:\n  x1: {type: float, low: 0, high: 1}\n  x2: {type: float, low: 0, high: 1}\n"
      "  x3: {type: float, low: 0, high: 1}\n  x4: {type: float, low: 0, high: 1}\n"
      "  x5: {type: float, low: 0, high: 1}\n  x6: {type: float, low: 0, high: 1}\n");
  ASSERT_EQ(run("tune " + config + " --quiet --out " + dir_ + "/straight").code, 0);
  const std::string killed = dir_ + "/killed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(GRAYBOX_BIN, GRAYBOX_BIN, "tune", config.c_str(), "--quiet", "--out", killed.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Kill it hard mid-experiment, once a few trials are committed (the whole run takes several
  // seconds; polling, not a fixed sleep, so a loaded machine still kills it at a point that counts).
  for (int i = 0; i < 600; ++i) {
    ::usleep(50000);
    if (fs::exists(killed + "/config.yaml") && fs::exists(killed + "/store.sqlite") &&
        graybox::store::SqliteStore(killed + "/store.sqlite").trials().size() >= 3) {
      break;
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the experiment ended before it was killed";
  const Result r = run("tune --resume --quiet --out " + killed);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto a = nlohmann::json::parse(graybox::core::read_file(dir_ + "/straight/summary.json"));
  const auto b = nlohmann::json::parse(graybox::core::read_file(killed + "/summary.json"));
  EXPECT_EQ(a["best_score"], b["best_score"]);
  EXPECT_EQ(a["best_config"], b["best_config"]);
  EXPECT_EQ(a["results"], b["results"]);
  EXPECT_EQ(a["total_budget"], b["total_budget"]);
}

TEST_F(Cli, TuneRejectsAMalformedSearchSpace) {
  Result r = run("tune " + write("bad1.yaml", "task: branin\nsearch_space:\n  x1: {type: float, low: 3, high: 1}\n") +
                 " --out " + dir_ + "/t1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("bad1.yaml:3:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("greater than high"), std::string::npos) << r.output;
  r = run("tune " + write("bad2.yaml", "task: branin\nsearch_space:\n  x3: {type: float, low: 0, high: 1}\n") +
          " --out " + dir_ + "/t2");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("not a key"), std::string::npos) << r.output;
  r = run("tune " + write("bad3.yaml", "task: branin\ntune:\n  algoritm: bohb\nsearch_space:\n  x1: 1\n") +
          " --out " + dir_ + "/t3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("did you mean 'tune.algorithm'"), std::string::npos) << r.output;
}

TEST_F(Cli, TunedPpoBestConfigTrainsAsASingleRun) {
  const std::string base = write("base.yaml", kTinyConfig);
  const std::string config = write("ppo.yaml",
      "seed: 1\ntask: rl\nbase_config: base.yaml\ntune:\n  algorithm: sha\n  max_budget: 3\n"
      "  budget_unit: 256\n  parallel: 2\nsearch_space:\n"
      "  agent.learning_rate: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}\n"
      "  agent.clip_coef: {type: categorical, choices: [0.1, 0.3]}\n");
  const Result r = run("tune " + config + " --quiet --out " + dir_ + "/t");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto summary = nlohmann::json::parse(graybox::core::read_file(dir_ + "/t/summary.json"));
  EXPECT_EQ(summary["total_budget"].get<long long>() % 256, 0);
  const Result t = run("train " + dir_ + "/t/best.yaml --quiet --set eval.episodes=1 --out " + dir_ + "/best");
  ASSERT_EQ(t.code, 0) << t.output;
  const std::string best = graybox::core::read_file(dir_ + "/t/best.yaml");
  EXPECT_NE(best.find("learning_rate: " + summary["best_config"]["agent.learning_rate"].dump().substr(0, 6)),
            std::string::npos) << best;
  // Issue 10 item 12: the single run reproduces the best trial's score exactly.
  const auto retrained = nlohmann::json::parse(graybox::core::read_file(dir_ + "/best/summary.json"));
  EXPECT_EQ(retrained["total_steps"], 768);
  EXPECT_DOUBLE_EQ(retrained["final_return"].get<double>(), summary["best_score"].get<double>());
  // graybox eval on the tune run evaluates its best trial's checkpoint.
  const Result e = run("eval " + dir_ + "/t --episodes 2 --json");
  ASSERT_EQ(e.code, 0) << e.output;
  const auto eval = nlohmann::json::parse(e.output);
  EXPECT_EQ(eval["trial"], summary["best_trial"]);
  EXPECT_EQ(eval["steps"], 768);
  EXPECT_EQ(eval["returns"].size(), 2u);
}

// PBT on a supervised task with the interval counted in minibatches: members are perturbed
// every 5 minibatches, mid-epoch (an epoch here is 14 minibatches).
TEST_F(Cli, PopulationOnASupervisedTaskPerturbsEveryFewMinibatches) {
  write("fit.yaml",
        "seed: 1\ndata:\n  name: teacher_student\n  teacher:\n    examples: 600\nmodel:\n  widths: [16]\n"
        "optimizer:\n  name: sgd\n  lr: 0.01\ntrain:\n  batch_size: 32\n");
  const std::string config = write("pbt.yaml",
      "seed: 3\ntask: supervised\nbase_config: fit.yaml\ntune:\n  algorithm: pbt\n  population: 4\n"
      "  budget_unit: 5\n  perturbation_interval: 1\n  max_budget: 8\n  parallel: 2\nsearch_space:\n"
      "  optimizer.lr: {type: float, low: 1.0e-4, high: 0.5, log: true}\n");
  const Result r = run("tune " + config + " --quiet --out " + dir_ + "/p");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto summary = nlohmann::json::parse(graybox::core::read_file(dir_ + "/p/summary.json"));
  EXPECT_EQ(summary["status"], "finished");
  EXPECT_EQ(summary["total_budget"].get<long long>(), 4 * 8 * 5);  // minibatches
  EXPECT_GT(summary["exploits"].get<int>(), 0);
  std::istringstream history(graybox::core::read_file(dir_ + "/p/history.csv"));
  std::string line;
  std::getline(history, line);  // header
  std::set<long long> steps;
  while (std::getline(history, line)) steps.insert(std::stoll(line.substr(line.find(',') + 1)));
  EXPECT_EQ(steps, (std::set<long long>{5, 10, 15, 20, 25, 30, 35, 40}));
  // The best member's schedule replays as one `graybox fit` run long enough for 40 minibatches.
  const Result f = run("fit " + dir_ + "/p/best.yaml --quiet --set replay.file=" + dir_ +
                       "/p/schedules/best.yaml --out " + dir_ + "/replayed");
  ASSERT_EQ(f.code, 0) << f.output;
  const auto fitted = nlohmann::json::parse(graybox::core::read_file(dir_ + "/replayed/summary.json"));
  EXPECT_EQ(fitted["epochs"].get<double>(), 3.0);
  // graybox eval on the population run: the best member's test figures.
  const Result e = run("eval " + dir_ + "/p --json");
  ASSERT_EQ(e.code, 0) << e.output;
  const auto eval = nlohmann::json::parse(e.output);
  EXPECT_EQ(eval["member"], summary["best_member"]);
  EXPECT_GT(eval["test_accuracy"].get<double>(), 0.0);
}

TEST_F(Cli, FitTrainsResumesAndRejectsBadData) {
  const std::string config = write("fit.yaml",
      "seed: 1\ndata:\n  name: teacher_student\n  teacher:\n    examples: 600\nmodel:\n  widths: [32]\n"
      "optimizer:\n  lr: 0.01\nschedule:\n  type: cosine\ntrain:\n  epochs: 2\n  batch_size: 32\n");
  Result r = run("fit " + config + " --quiet --out " + dir_ + "/f");
  ASSERT_EQ(r.code, 0) << r.output;
  auto summary = nlohmann::json::parse(graybox::core::read_file(dir_ + "/f/summary.json"));
  for (const char* key : {"test_accuracy", "test_loss", "val_loss", "epochs", "wall_seconds"}) {
    EXPECT_TRUE(summary.contains(key)) << key;
  }
  // The resolved config reloads: resuming with a larger budget continues the run.
  r = run("fit --resume --quiet --set train.epochs=3 --out " + dir_ + "/f");
  ASSERT_EQ(r.code, 0) << r.output;
  summary = nlohmann::json::parse(graybox::core::read_file(dir_ + "/f/summary.json"));
  EXPECT_EQ(summary["epochs"].get<double>(), 3.0);
  // graybox eval on a fit run: the test figures of its last checkpoint.
  const Result e = run("eval " + dir_ + "/f --json");
  ASSERT_EQ(e.code, 0) << e.output;
  const auto eval = nlohmann::json::parse(e.output);
  EXPECT_DOUBLE_EQ(eval["test_accuracy"].get<double>(), summary["test_accuracy"].get<double>());
  EXPECT_DOUBLE_EQ(eval["test_loss"].get<double>(), summary["test_loss"].get<double>());
  // A corrupt data file is a clear error naming it.
  fs::create_directories(dir_ + "/data");
  std::ofstream(dir_ + "/data/train-images-idx3-ubyte.gz") << "not gzip";
  r = run("fit " + config + " --quiet --set data.name=fashion_mnist --set data.dir=" + dir_ + "/data --out " + dir_ + "/g");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find(dir_ + "/data"), std::string::npos) << r.output;
}

TEST_F(Cli, TrainAndFitReplayARecordedHyperparameterSchedule) {
  const std::string schedule = write("best.yaml",
      "unit: steps\nhyperparameters:\n  learning_rate:\n    interpolation: hold\n"
      "    points: [[0, 0.001], [256, 0.002]]\n");
  Result r = run("train " + write("tiny.yaml", kTinyConfig) + " --quiet --set agent.anneal_lr=false --set replay.file=" +
                 schedule + " --out " + dir_ + "/t");
  ASSERT_EQ(r.code, 0) << r.output;
  {
    graybox::store::SqliteStore store(dir_ + "/t/store.sqlite");
    const auto lrs = store.metrics(0, "charts/learning_rate");
    ASSERT_EQ(lrs.size(), 4u);
    EXPECT_DOUBLE_EQ(lrs[0].value, 0.001);  // the iteration from step 0
    EXPECT_DOUBLE_EQ(lrs[1].value, 0.002);  // the iteration from step 256
    EXPECT_DOUBLE_EQ(lrs[3].value, 0.002);
  }
  const std::string fit_schedule = write("fit_best.yaml",
      "unit: steps\nhyperparameters:\n  learning_rate:\n    interpolation: hold\n"
      "    points: [[0, 0.01], [20, 0.05]]\n");
  r = run("fit " + write("fit.yaml",
                         "data:\n  name: teacher_student\n  teacher:\n    examples: 600\nmodel:\n  widths: [16]\n"
                         "train:\n  epochs: 2\n  batch_size: 32\n") +
          " --quiet --set replay.file=" + fit_schedule + " --out " + dir_ + "/f");
  ASSERT_EQ(r.code, 0) << r.output;
  graybox::store::SqliteStore store(dir_ + "/f/store.sqlite");
  for (const auto& row : store.metrics(0, "charts/learning_rate")) {
    EXPECT_DOUBLE_EQ(row.value, row.step <= 20 ? 0.01 : 0.05) << "step " << row.step;
  }
  // A name the task does not have is an error naming replay.file.
  const std::string bad = write("bad.yaml", "unit: steps\nhyperparameters:\n  nonsense:\n    points: [[0, 1]]\n");
  r = run("train " + write("tiny2.yaml", kTinyConfig) + " --quiet --set replay.file=" + bad + " --out " + dir_ + "/b");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("replay.file"), std::string::npos) << r.output;
}

TEST_F(Cli, LineageOfAPopulationRun) {
  const std::string config = write("pbt.yaml",
      "seed: 3\ntask: branin\ntune:\n  algorithm: pbt\n  population: 4\n  perturbation_interval: 2\n"
      "  max_budget: 10\nsearch_space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n");
  Result r = run("tune " + config + " --quiet --out " + dir_ + "/p");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* file : {"summary.json", "lineage.json", "lineage.dot", "schedules/best.yaml"}) {
    EXPECT_TRUE(fs::exists(dir_ + "/p/" + file)) << file;
  }
  r = run("lineage " + dir_ + "/p --json");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NO_THROW(nlohmann::json::parse(r.output)) << r.output;
  EXPECT_NE(graybox::core::read_file(dir_ + "/p/lineage.dot").find("digraph"), std::string::npos);
  EXPECT_EQ(run("lineage " + dir_ + "/nothing").code, 2);
}

TEST_F(Cli, RefusesToOverwriteARun) {
  const std::string config = write("tiny.yaml", kTinyConfig);
  ASSERT_EQ(run("train " + config + " --quiet --set total_steps=256 --out " + dir_ + "/run").code, 0);
  const Result r = run("train " + config + " --quiet --out " + dir_ + "/run");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("--resume"), std::string::npos) << r.output;
}

TEST_F(Cli, EvalOfANonRunIsExitCode2) {
  const Result r = run("eval " + dir_);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("not a run directory"), std::string::npos) << r.output;
}

}  // namespace
