// graybox report RUN_DIR: pictures of a train, fit or tune (PBT) run, drawn by tools/report.py
// (Debian's /usr/bin/python3 with python3-matplotlib) from the run's store, and an index.html
// with the summary table. The summary's statistics come from core/statistics: over the trials'
// (members') final scores, their mean, median and interquartile mean with 95 % stratified
// bootstrap intervals (seeded: a re-run writes the same intervals).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "apps/bench_results.hpp"
#include "apps/commands.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/statistics.hpp"
#include "core/store.hpp"
#include "store/sqlite_store.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace graybox::apps {
namespace {

// Debian's interpreter, where python3-matplotlib installs; GRAYBOX_PYTHON replaces it (tests).
std::string python() {
  const char* chosen = std::getenv("GRAYBOX_PYTHON");
  return chosen && *chosen ? chosen : "/usr/bin/python3";
}

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string format(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return buffer;
}

std::string with_interval(const core::Interval& i) {
  return format(i.point) + " [" + format(i.low) + ", " + format(i.high) + "]";
}

// Rows of the summary table: the trials' final scores with intervals (tune, PBT), or the last
// value of each metric (a single train or fit run).
json summary_rows(const core::Store& store) {
  json rows = json::array();
  std::vector<double> finals;
  for (const auto& t : store.trials()) {
    if (std::isfinite(t.score)) finals.push_back(t.score);
  }
  if (!finals.empty()) {
    rows.push_back({"trials with a score", std::to_string(finals.size())});
    const core::TaskScores scores{finals};
    const auto interval = [&](const core::Aggregate& f) { return with_interval(core::aggregate_interval(scores, f, 2000, 0)); };
    rows.push_back({"mean final score [95% bootstrap CI]", interval([](const std::vector<double>& x) { return core::mean(x); })});
    rows.push_back({"median final score [95% CI]", interval([](const std::vector<double>& x) { return core::median(x); })});
    rows.push_back({"IQM final score [95% CI]", interval([](const std::vector<double>& x) { return core::interquartile_mean(x); })});
    return rows;
  }
  std::map<std::string, core::MetricRow> last;
  for (const auto& m : store.metrics(0)) last[m.name] = m;
  for (const auto& [name, m] : last) rows.push_back({name + " (last, step " + std::to_string(m.step) + ")", format(m.value)});
  return rows;
}

}  // namespace

int report_command(const std::string& run_dir, const std::string& out_option, const std::string& metric) {
  const std::unique_ptr<core::Store> store = open_bench_store(run_dir);  // a run's store.sqlite, or a benchmark's store
  if (!store) throw core::UserError(run_dir + ": not a run directory (no store.sqlite)");
  const std::string script = std::string(GRAYBOX_TOOLS_DIR) + "/report.py";
  if (!fs::exists(script)) throw core::UserError(script + ": the report script is missing (tools/ of the source tree)");
  if (std::system((quoted(python()) + " -c 'import matplotlib' > /dev/null 2>&1").c_str()) != 0) {
    throw core::UserError("graybox report needs " + python() +
                          " with matplotlib; install it with: sudo apt-get install python3-matplotlib");
  }
  const std::string out = out_option.empty() ? run_dir + "/report" : out_option;
  fs::create_directories(out);
  json rows;
  if (is_bench_store(*store)) {
    // A benchmark: its tables (seeded, the same as graybox bench printed), then its pictures from
    // the plan and the cells done, handed to the script in a file.
    const BenchPlan plan = saved_plan(*store);
    const core::BenchmarkOptions options = bench_options(plan);
    const std::vector<MetaTraining> meta = saved_meta_trainings(*store);
    write_bench_tables(out, core::benchmark_table(bench_runs(*store, plan), options), options, meta);
    json cells = json::array();
    for (const auto& t : store->trials()) {
      if (t.status == "done") cells.push_back(json::parse(t.config));
    }
    const std::string cells_file = out + "/bench_cells.json";
    core::write_file_atomic(cells_file, json{{"plan", plan.to_json()}, {"cells", cells}, {"meta_training", meta_trainings_json(meta)}}.dump() + "\n");
    const std::string bench_script = std::string(GRAYBOX_TOOLS_DIR) + "/bench_report.py";
    const int status = std::system(
        (quoted(python()) + " " + quoted(bench_script) + " " + quoted(run_dir) + " " + quoted(out) + " " + quoted(cells_file)).c_str());
    if (status != 0) throw core::UserError(run_dir + ": the report script failed (" + bench_script + ", status " + std::to_string(status) + ")");
    return 0;
  }
  rows = summary_rows(*store);
  const std::string summary = out + "/summary.json";
  core::write_file_atomic(summary, rows.dump(1) + "\n");
  std::string command = quoted(python()) + " " + quoted(script) + " " + quoted(run_dir) + " " + quoted(out) +
                        " --summary-file " + quoted(summary);
  if (!metric.empty()) command += " --metric " + quoted(metric);
  const int status = std::system(command.c_str());
  if (status != 0) throw core::UserError(run_dir + ": the report script failed (" + script + ", status " + std::to_string(status) + ")");
  return 0;
}

}  // namespace graybox::apps
