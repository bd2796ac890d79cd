// graybox report on tiny runs: every picture is a valid PNG with content, index.html shows them,
// and a directory that is not a run is refused with exit code 2.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "tests/apps/cli.hpp"
#include "core/files.hpp"

namespace {

using namespace graybox_cli_test;

bool matplotlib_present() { return std::system("/usr/bin/python3 -c 'import matplotlib' > /dev/null 2>&1") == 0; }

// A PNG's signature, then its IHDR chunk with a non-zero width and height.
void expect_png_header(const std::string& path) {
  const std::string bytes = graybox::core::read_file(path);
  ASSERT_GT(bytes.size(), 33u) << path;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
  EXPECT_EQ(bytes.substr(12, 4), "IHDR") << path;
  const auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned>(static_cast<unsigned char>(bytes[at])) << 24) |
           (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
           (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
           static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 3]));
  };
  EXPECT_GT(be32(16), 100u) << path;  // width
  EXPECT_GT(be32(20), 100u) << path;  // height
}

// Decoded by matplotlib: more than 1 % of the pixels are not white and there are lines and text
// in several colours (a blank or single-colour image fails).
void expect_drawn(const std::string& path) {
  const Result r = shell("", "/usr/bin/python3 -c \"import sys, numpy, matplotlib.image as m; a = m.imread(sys.argv[1])[:, :, :3]; "
                             "ink = (a < 0.95).any(axis=2).mean(); colours = len(numpy.unique((a * 255).astype(int).reshape(-1, 3), axis=0)); "
                             "print('ink', ink, 'colours', colours); sys.exit(0 if ink > 0.01 and colours > 8 else 1)\" " + path);
  EXPECT_EQ(r.code, 0) << path << ": " << r.output;
}

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
