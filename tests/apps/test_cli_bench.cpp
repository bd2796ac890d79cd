// graybox bench end to end on a tiny supervised task (sklearn's digits, 160 examples per split,
// 5 minibatches an epoch): the budget each controller family spent, read from the cells' own
// stores (fit, tune random, tune BOHB's brackets, PBT); the seeded tables; a killed benchmark
// resuming without redoing finished cells; bad BENCH.yaml input; the report's pictures and its
// index.html rendered by headless Chromium.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/files.hpp"
#include "store/sqlite_store.hpp"
#include "tests/apps/cli.hpp"
#include "tests/apps/png_check.hpp"

namespace {

using namespace graybox_cli_test;
using nlohmann::json;

const char* kDigits =
    "seed: 1\ndata:\n  name: digits\n  limit: 160\nmodel:\n  type: mlp\n  widths: [16]\n"
    "optimizer:\n  name: sgd\n  lr: 0.05\n  momentum: 0.9\nschedule:\n  type: cosine\n  unit: epochs\n"
    "train:\n  epochs: 4\n  batch_size: 32\n";
const char* kSpace = "search_space:\n  optimizer.lr: {type: float, low: 1.0e-3, high: 0.3, log: true}\n";

// Writes the tiny benchmark into `dir` and returns BENCH.yaml's path.
std::string write_bench(const std::string& dir, int parallel) {
  const auto put = [&](const std::string& name, const std::string& text) {
    graybox::core::write_file_atomic(dir + "/" + name, text);
  };
  fs::create_directories(dir);
  put("digits.yaml", kDigits);
  const std::string tune = "seed: 1\ntask: supervised\nbase_config: digits.yaml\n";
  put("random.yaml", tune + "tune:\n  algorithm: random\n  num_trials: 2\n  max_budget: 2\n  budget_unit: 5\n" + kSpace);
  put("bohb.yaml", tune + "tune:\n  algorithm: bohb\n  min_budget: 1\n  max_budget: 3\n  eta: 3\n  budget_unit: 5\n" + kSpace);
  put("pbt.yaml", tune + "tune:\n  algorithm: pbt\n  population: 2\n  perturbation_interval: 1\n  max_budget: 2\n"
                         "  budget_unit: 5\n" + kSpace);
  put("bench.yaml",
      "seeds: 2\nbaseline: constant\nscore: eval\nbudget: 20\nbudget_tolerance: 0.01\nparallel: " + std::to_string(parallel) +
          "\nbootstrap:\n  replicates: 300\ntasks:\n  digits: {config: digits.yaml}\nmethods:\n"
          "  constant: {command: fit, set: [schedule.type=constant]}\n"
          "  random: {command: tune, config: random.yaml}\n"
          "  bohb: {command: tune, config: bohb.yaml}\n"
          "  pbt: {command: tune, config: pbt.yaml}\n");
  return dir + "/bench.yaml";
}

// Steps every trial (member) of a cell trained, from its store's per-step training loss.
std::int64_t steps_in_store(const std::string& cell_dir) {
  graybox::store::SqliteStore store(cell_dir + "/store.sqlite");
  std::map<std::int64_t, std::int64_t> last;
  for (const auto& m : store.metrics(-1, "train/loss")) last[m.trial] = std::max(last[m.trial], m.step);
  std::int64_t total = 0;
  for (const auto& [trial, step] : last) total += step;
  return total;
}

struct Cells {
  std::map<std::string, std::vector<std::pair<std::string, std::int64_t>>> by_method;  // method -> (dir, spent)
  std::size_t done = 0;
};

Cells read_cells(const std::string& bench_dir) {
  graybox::store::SqliteStore store(bench_dir + "/store.sqlite");
  Cells cells;
  for (const auto& row : store.trials()) {
    if (row.status != "done") continue;
    const json key = json::parse(row.config);
    cells.by_method[key["method"].get<std::string>()].emplace_back(bench_dir + "/" + key["dir"].get<std::string>(), row.budget);
    ++cells.done;
  }
  return cells;
}

// One benchmark for the tests that only read it (ctest runs each test in a process of its own, so
// each runs it once).
class BenchRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("graybox_bench_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    const std::string bench = write_bench(dir_ + "/in", 2);
    result_ = run("bench " + bench + " --out " + dir_ + "/b");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string dir_;
  static Result result_;
};
std::string BenchRun::dir_;
Result BenchRun::result_;

TEST_F(BenchRun, EveryFamilysBudgetIsTheStepsItsRunsTrainedAndTheTablesAreSeeded) {
  ASSERT_EQ(result_.code, 0) << result_.output;
  const Cells cells = read_cells(dir_ + "/b");
  EXPECT_EQ(cells.done, 8u);
  for (const auto& [method, list] : cells.by_method) {
    ASSERT_EQ(list.size(), 2u) << method;
    for (const auto& [dir, spent] : list) EXPECT_EQ(spent, steps_in_store(dir)) << method << " " << dir;
  }
  // By hand: 4 epochs of 5 minibatches; random 2 trials x 2 units x 5; PBT 2 members x 2 x 5;
  // BOHB (eta 3, budgets 1..3): a bracket of 3 trials at 1 unit, the best continued to 3, and a
  // bracket of 2 trials at 3 units: 3 + 2 + 6 = 11 units of 5 minibatches.
  EXPECT_EQ(cells.by_method.at("constant")[0].second, 20);
  EXPECT_EQ(cells.by_method.at("random")[0].second, 20);
  EXPECT_EQ(cells.by_method.at("pbt")[0].second, 20);
  EXPECT_EQ(cells.by_method.at("bohb")[0].second, 55);
  // The table says BOHB spent off the budget of 20 minibatches, the others on it.
  EXPECT_NE(result_.output.find("| digits | bohb | 2 |"), std::string::npos) << result_.output;
  EXPECT_NE(result_.output.find("warning: bohb on digits spent 55 steps per cell"), std::string::npos) << result_.output;
  EXPECT_EQ(result_.output.find("warning: pbt"), std::string::npos) << result_.output;

  // The tables are seeded: graybox report computes the same ones again.
  const std::string csv = graybox::core::read_file(dir_ + "/b/results.csv");
  EXPECT_NE(csv.find("overall,pbt,2,"), std::string::npos) << csv;
  EXPECT_NE(result_.output.find("| overall | random | 2 |"), std::string::npos) << result_.output;
  if (!matplotlib_present()) GTEST_SKIP() << "/usr/bin/python3 has no matplotlib (sudo apt-get install python3-matplotlib)";
  const Result r = run("report " + dir_ + "/b");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(graybox::core::read_file(dir_ + "/b/report/results.csv"), csv);
}

TEST_F(BenchRun, TheReportsPicturesAreValidPngsAndChromiumShowsThem) {
  ASSERT_EQ(result_.code, 0) << result_.output;
  if (!matplotlib_present()) GTEST_SKIP() << "/usr/bin/python3 has no matplotlib (sudo apt-get install python3-matplotlib)";
  const std::string out = dir_ + "/pictures";
  Result r = run("report " + dir_ + "/b --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string index = graybox::core::read_file(out + "/index.html");
  const std::vector<std::string> pictures = {"final.png", "improvement.png", "profiles.png", "curves.png"};
  for (const auto& picture : pictures) {
    expect_png_header(out + "/" + picture);
    expect_drawn(out + "/" + picture);
    EXPECT_NE(index.find("src=\"" + picture + "\""), std::string::npos) << picture;
  }
  for (const char* picture : {"final.png", "profiles.png", "curves.png"}) expect_first_series(out + "/" + picture, 0.0001);
  EXPECT_NE(index.find("P(better than constant)"), std::string::npos);

  if (shell("", "command -v chromium").code != 0) {
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium); the browser check is skipped";
  }
  // A copy of the page that, once loaded, writes how many images decoded into its title.
  std::string probe = index;
  probe.insert(probe.find("</body>"),
               "<script>window.addEventListener('load', () => { const i = [...document.images];"
               " document.title = 'images ' + i.length + ' broken ' + i.filter(x => !x.complete || x.naturalWidth == 0).length; });"
               "</script>");
  graybox::core::write_file_atomic(out + "/probe.html", probe);
  const std::string browser = "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=5000 ";
  r = shell("", browser + "--dump-dom file://" + out + "/probe.html 2>/dev/null");
  EXPECT_NE(r.output.find("<title>images 4 broken 0</title>"), std::string::npos) << r.output.substr(0, 400);
  r = shell(out, browser + "--window-size=1400,2600 --screenshot=" + out + "/screenshot.png file://" + out + "/index.html");
  ASSERT_TRUE(fs::exists(out + "/screenshot.png")) << r.output;
  // Not blank, and in the colours of the pictures (a page of text and broken-image boxes has few).
  const Result drawn = shell("", "/usr/bin/python3 -c \"import sys, numpy, matplotlib.image as m; a = m.imread(sys.argv[1])[:, :, :3]; "
                                 "ink = (a < 0.95).any(axis=2).mean(); colours = len(numpy.unique((a * 255).astype(int).reshape(-1, 3), axis=0)); "
                                 "print('ink', ink, 'colours', colours); sys.exit(0 if ink > 0.03 and colours > 200 else 1)\" " +
                                     out + "/screenshot.png");
  EXPECT_EQ(drawn.code, 0) << drawn.output;
}

class Bench : public Cli {};

TEST_F(Bench, AKilledBenchmarkResumesWithoutRedoingFinishedCells) {
  const std::string bench = write_bench(dir_ + "/in", 1);
  const std::string out = dir_ + "/b";
  const Result started = shell("", std::string(GRAYBOX_BIN) + " bench " + bench + " --quiet --out " + out + " > " + dir_ +
                                       "/first.log 2>&1 & echo $!");
  const int pid = std::stoi(started.output);
  // Kill it (SIGKILL: no chance to clean up) once two cells are committed.
  for (int k = 0; k < 600 && (!fs::exists(out + "/store.sqlite") || read_cells(out).done < 2); ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid, SIGKILL);
  const Cells before = read_cells(out);
  ASSERT_GE(before.done, 2u) << graybox::core::read_file(dir_ + "/first.log");
  ASSERT_LT(before.done, 8u) << "the benchmark finished before the kill";
  std::map<std::string, std::string> logs;  // the finished cells' logs, which a resume must not touch
  for (const auto& [method, list] : before.by_method) {
    for (const auto& [dir, spent] : list) {
      const std::string log = out + "/logs/digits." + method + "." + fs::path(dir).filename().string() + ".log";
      logs[log] = graybox::core::read_file(log);
    }
  }
  const Result r = run("bench --resume --out " + out + " --parallel 2");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming 8 cells"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(std::to_string(before.done) + " done"), std::string::npos) << r.output;
  EXPECT_EQ(read_cells(out).done, 8u);
  for (const auto& [log, text] : logs) EXPECT_EQ(graybox::core::read_file(log), text) << log << " was run again";
  // A finished benchmark resumed runs nothing and prints the same table.
  const Result again = run("bench --resume --out " + out);
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("8 done, 0 to run"), std::string::npos) << again.output;
  EXPECT_EQ(graybox::core::read_file(out + "/results.md").substr(0, 200), again.output.substr(again.output.find("| scope"), 200));
}

TEST_F(Bench, BadInputNamesTheFileAndTheField) {
  const std::string bench = write_bench(dir_ + "/in", 1);
  const std::string text = graybox::core::read_file(bench);
  const auto expect_refused = [&](const std::string& yaml, const std::string& needle) {
    graybox::core::write_file_atomic(dir_ + "/in/bad.yaml", yaml);
    const Result r = run("bench " + dir_ + "/in/bad.yaml --out " + dir_ + "/bad");
    EXPECT_EQ(r.code, 2) << yaml << "\n" << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir_ + "/bad/store.sqlite"));
  };
  std::string wrong = text;
  wrong.replace(wrong.find("command: fit"), 12, "command: fitt");
  expect_refused(wrong, "bad.yaml:12:23: methods.constant.command: 'fitt' is not one of");
  expect_refused(text + "seedz: 3\n", "seedz");
  expect_refused("baseline: nobody\n" + text.substr(text.find("score")), "baseline: 'nobody' is not one of the methods");
  wrong = text;
  wrong.replace(wrong.find("config: random.yaml"), 19, "config: missing.yaml");
  expect_refused(wrong, "methods.random.config: no such file");
  wrong = text;
  wrong.replace(wrong.find("schedule.type=constant"), 22, "schedule.typo=constant");
  expect_refused(wrong, "schedule.typo");
  wrong = text;
  wrong.replace(wrong.find("{command: fit,"), 14, "{command: train,");
  expect_refused(wrong, "a train method cannot run the fit config");
  const Result r = run("bench " + bench + " --parallel 0 --out " + dir_ + "/bad");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--parallel 0"), std::string::npos) << r.output;
}

}  // namespace
