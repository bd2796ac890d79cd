// The shipped benchmarks (configs/bench/*.yaml) at their --smoke size: every cell runs and is
// scored, and the table covers every method. One test per file, so ctest runs them side by side.
#include <gtest/gtest.h>

#include "core/files.hpp"
#include "tests/apps/cli.hpp"
#include "tests/apps/png_check.hpp"

namespace {

using namespace graybox_cli_test;

void expect_smoke_runs(const std::string& dir, const std::string& name, const std::vector<std::string>& methods) {
  const std::string file = std::string(GRAYBOX_SOURCE_DIR) + "/configs/bench/" + name + ".yaml";
  const Result r = run("bench " + file + " --smoke --parallel 2 --out " + dir + "/" + name);
  ASSERT_EQ(r.code, 0) << file << ": " << r.output;
  EXPECT_NE(r.output.find(" cells done;"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("failed"), std::string::npos) << r.output;
  const std::string csv = graybox::core::read_file(dir + "/" + name + "/results.csv");
  for (const auto& m : methods) EXPECT_NE(csv.find("overall," + m + ","), std::string::npos) << m << "\n" << csv;
}

TEST_F(Cli, ShippedSupervisedBenchmarkSmoke) {
  expect_smoke_runs(dir_, "supervised", {"constant", "step", "cosine", "sgdr", "pbt", "meta_controller"});
}

TEST_F(Cli, ShippedPpoBenchmarkSmoke) {
  expect_smoke_runs(dir_, "rl_ppo", {"cleanrl", "random", "bohb", "pbt", "pb2"});
  if (!matplotlib_present()) GTEST_SKIP() << "/usr/bin/python3 has no matplotlib (sudo apt-get install python3-matplotlib)";
  // Each panel of curves.png draws one metric for every method. On HalfCheetah only the 2048-step
  // CleanRL run ends episodes (of 1000 steps); the tune cells' best runs of 512 steps have none,
  // and are named as missing instead of drawing their tune/score under the return's label.
  const Result r = run("report " + dir_ + "/rl_ppo");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("curves hopper: charts/episodic_return: cleanrl, random, bohb, pbt, pb2\n"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("curves half_cheetah: charts/episodic_return: cleanrl; no curve of it: random, bohb, pbt, pb2\n"),
            std::string::npos)
      << r.output;
}

TEST_F(Cli, ShippedSacBenchmarkSmoke) { expect_smoke_runs(dir_, "rl_sac", {"cleanrl", "random", "bohb", "pbt", "pb2"}); }

}  // namespace
