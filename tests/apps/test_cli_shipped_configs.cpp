// Every shipped config runs clean (issue 11 item 11): each one under configs/, trained for a
// few steps (budgets cut by --set, nothing else changed), exits 0 with every trial "ok".
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/files.hpp"
#include "tests/apps/cli.hpp"

namespace {

using namespace graybox_cli_test;

std::vector<std::string> shipped(const std::string& folder) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(std::string(GRAYBOX_SOURCE_DIR) + "/configs/" + folder)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The status column (the fifth) of a sequential experiment's history.csv.
std::vector<std::string> statuses(const std::string& history) {
  std::istringstream in(graybox::core::read_file(history));
  std::vector<std::string> out;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::string cell;
    std::istringstream row(line);
    for (int i = 0; i < 5; ++i) std::getline(row, cell, ',');
    out.push_back(cell);
  }
  return out;
}

nlohmann::json summary_of(const std::string& run_dir) {
  return nlohmann::json::parse(graybox::core::read_file(run_dir + "/summary.json"));
}

TEST_F(Cli, ShippedTrainConfigsRunClean) {
  std::vector<std::string> files = shipped("train");
  files.push_back(std::string(GRAYBOX_SOURCE_DIR) + "/configs/quickstart.yaml");
  for (const auto& file : files) {
    const std::string out = dir_ + "/" + fs::path(file).stem().string();
    // PPO: 2048 env steps in rollouts of 512 per env (a rollout of 4 envs for ppo_swimmer). SAC
    // and TD3: 50 updates after 150 random steps, in a buffer no larger than the run (Humanoid's
    // shipped 1e6 rows would take 2.8 GB).
    const std::string text = graybox::core::read_file(file);
    const bool off_policy = text.find("algo: sac") != std::string::npos || text.find("algo: td3") != std::string::npos;
    const std::string budget = off_policy
                                   ? " --set total_steps=200 --set agent.learning_starts=150 --set agent.buffer_size=200"
                                   : " --set total_steps=2048 --set agent.num_steps=512";
    const Result r = run("train " + file + " --quiet" + budget + " --set eval.episodes=1 --out " + out);
    ASSERT_EQ(r.code, 0) << file << ": " << r.output;
    EXPECT_EQ(summary_of(out)["status"], "finished") << file;
  }
}

TEST_F(Cli, ShippedFitConfigsRunClean) {
  for (const auto& file : shipped("fit")) {
    const std::string out = dir_ + "/" + fs::path(file).stem().string();
    // One epoch (Fashion-MNIST: on a tenth of the training images).
    const std::string fewer = file.find("fashion") != std::string::npos ? " --set data.val_fraction=0.9" : "";
    const Result r = run("fit " + file + " --quiet --set train.epochs=1" + fewer + " --out " + out);
    ASSERT_EQ(r.code, 0) << file << ": " << r.output;
    EXPECT_EQ(summary_of(out)["status"], "finished") << file;
  }
}

TEST_F(Cli, ShippedTuneConfigsRunClean) {
  for (const auto& file : shipped("tune")) {
    const std::string text = graybox::core::read_file(file);
    std::string budget;  // synthetic objectives run as shipped: they cost nothing
    if (text.find("task: rl") != std::string::npos || text.find("task: supervised") != std::string::npos) {
      budget = " --set tune.max_budget=1 --set tune.min_budget=1 --set tune.num_trials=6 --set tune.population=2"
               " --set tune.perturbation_interval=1 --set tune.budget_unit=" +
               std::string(text.find("task: rl") != std::string::npos ? "2048" : "20");
    }
    const std::string out = dir_ + "/" + fs::path(file).stem().string();
    const Result r = run("tune " + file + " --quiet" + budget + " --out " + out);
    ASSERT_EQ(r.code, 0) << file << ": " << r.output;
    const auto summary = summary_of(out);
    EXPECT_EQ(summary["status"], "finished") << file;
    EXPECT_TRUE(summary.contains("best_score")) << file;
    if (summary.contains("population")) continue;  // a population's history has no status column
    for (const auto& status : statuses(out + "/history.csv")) EXPECT_EQ(status, "ok") << file;
  }
}

}  // namespace
