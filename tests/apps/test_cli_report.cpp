// graybox report on tiny runs: every picture is a valid PNG with content, index.html shows them,
// and a directory that is not a run is refused with exit code 2.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "tests/apps/cli.hpp"
#include "tests/apps/png_check.hpp"
#include "core/files.hpp"

namespace {

using namespace graybox_cli_test;

class Report : public Cli {};

TEST_F(Report, PicturesOfAPopulationRunAreValidPngsAndTheIndexShowsThem) {
  if (!matplotlib_present()) GTEST_SKIP() << "/usr/bin/python3 has no matplotlib (sudo apt-get install python3-matplotlib)";
  const std::string config = write("pbt.yaml",
      "seed: 3\ntask: branin\ntune:\n  algorithm: pbt\n  population: 4\n  perturbation_interval: 2\n"
      "  max_budget: 10\nsearch_space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n");
  Result r = run("tune " + config + " --quiet --out " + dir_ + "/p");
  ASSERT_EQ(r.code, 0) << r.output;
  r = run("report " + dir_ + "/p");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string index = graybox::core::read_file(dir_ + "/p/report/index.html");
  for (const char* picture : {"curves.png", "hyperparameters.png", "lineage.png", "final.png"}) {
    const std::string path = dir_ + "/p/report/" + picture;
    ASSERT_TRUE(fs::exists(path)) << picture << "\n" << r.output;
    expect_png_header(path);
    expect_drawn(path);
    EXPECT_NE(index.find(std::string("src=\"") + picture + "\""), std::string::npos) << picture;
  }
  EXPECT_NE(index.find("IQM final score"), std::string::npos);
  // Seeded intervals: a second report writes the same summary.
  const std::string summary = graybox::core::read_file(dir_ + "/p/report/summary.json");
  ASSERT_EQ(run("report " + dir_ + "/p").code, 0);
  EXPECT_EQ(graybox::core::read_file(dir_ + "/p/report/summary.json"), summary);
}

TEST_F(Report, PicturesOfATuneRun) {
  if (!matplotlib_present()) GTEST_SKIP() << "/usr/bin/python3 has no matplotlib (sudo apt-get install python3-matplotlib)";
  const std::string config = write("rs.yaml",
      "seed: 2\ntask: branin\ntune:\n  algorithm: random\n  num_trials: 6\n  max_budget: 3\n"
      "search_space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n");
  Result r = run("tune " + config + " --quiet --out " + dir_ + "/t");
  ASSERT_EQ(r.code, 0) << r.output;
  r = run("report " + dir_ + "/t --out " + dir_ + "/pictures");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* picture : {"curves.png", "final.png"}) {
    expect_png_header(dir_ + "/pictures/" + picture);
    expect_drawn(dir_ + "/pictures/" + picture);
  }
}

TEST_F(Report, WithoutMatplotlibItSaysHowToInstallIt) {
  const std::string config = write("rs.yaml",
      "seed: 2\ntask: branin\ntune:\n  algorithm: random\n  num_trials: 2\n  max_budget: 1\n"
      "search_space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n");
  ASSERT_EQ(run("tune " + config + " --quiet --out " + dir_ + "/t").code, 0);
  // An interpreter with no matplotlib: `false` fails every import.
  const Result r = shell("", "GRAYBOX_PYTHON=/bin/false " + std::string(GRAYBOX_BIN) + " report " + dir_ + "/t");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("apt-get install python3-matplotlib"), std::string::npos) << r.output;
}

TEST_F(Report, ADirectoryThatIsNotARunIsRefused) {
  const Result r = run("report " + dir_ + "/nothing");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("no store.sqlite"), std::string::npos) << r.output;
}

}  // namespace
