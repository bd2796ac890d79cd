#include "apps/bench_results.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/files.hpp"
#include "store/open_store.hpp"
#include "store/sqlite_store.hpp"

namespace graybox::apps {

std::pair<std::string, std::string> bench_storage(const std::string& dir) {
  const std::string path = dir + "/storage.json";
  if (!std::filesystem::exists(path)) return {};
  try {
    const nlohmann::json j = nlohmann::json::parse(core::read_file(path));
    return {j.at("storage").get<std::string>(), j.at("study").get<std::string>()};
  } catch (const std::exception& e) {
    throw core::UserError(path + ": not a benchmark's storage file (" + e.what() + ")");
  }
}

void write_bench_storage(const std::string& dir, const std::string& url, const std::string& study) {
  core::write_file_atomic(dir + "/storage.json", nlohmann::json{{"storage", url}, {"study", study}}.dump(2) + "\n");
}

std::unique_ptr<core::Store> open_bench_store(const std::string& dir) {
  const auto [url, study] = bench_storage(dir);
  if (!url.empty()) return store::open_store(store::parse_storage_url(url, dir + "/storage.json"), study);
  if (!std::filesystem::exists(dir + "/store.sqlite")) return nullptr;
  return std::make_unique<store::SqliteStore>(dir + "/store.sqlite");
}

bool is_bench_store(const core::Store& store) { return store.meta("kind") == "bench"; }

BenchPlan saved_plan(const core::Store& store) {
  try {
    return BenchPlan::from_json(nlohmann::json::parse(store.meta("bench_plan")));
  } catch (const std::exception& e) {
    throw core::UserError(store.location() + ": the benchmark's saved plan is unreadable (" + e.what() + ")");
  }
}

std::vector<core::BenchmarkRun> bench_runs(const core::Store& store, const BenchPlan& plan) {
  std::vector<core::BenchmarkRun> runs;
  for (const auto& row : store.trials()) {
    if (row.status != "done") continue;
    const nlohmann::json cell = nlohmann::json::parse(row.config);
    core::BenchmarkRun r;
    r.task = cell.at("task").get<std::string>();
    r.method = cell.at("method").get<std::string>();
    r.seed = cell.at("seed").get<std::int64_t>();
    r.score = row.score;
    r.spent = row.budget;
    bool planned = false;
    for (const auto& m : plan.methods) planned = planned || m.name == r.method;
    if (planned) runs.push_back(r);
  }
  return runs;
}

core::BenchmarkOptions bench_options(const BenchPlan& plan) {
  core::BenchmarkOptions o;
  for (const auto& m : plan.methods) o.methods.push_back(m.name);
  for (const auto& t : plan.tasks) o.tasks.push_back(t.name);
  o.baseline = plan.baseline;
  o.maximize = plan.maximize;
  o.replicates = plan.replicates;
  o.seed = plan.bootstrap_seed;
  o.budget = plan.budget;
  o.budget_tolerance = plan.budget_tolerance;
  return o;
}

std::string write_bench_tables(const std::string& dir, const core::BenchmarkTable& table, const core::BenchmarkOptions& options,
                               const std::vector<MetaTraining>& meta_trainings) {
  const std::string markdown = core::benchmark_markdown(table, options) + meta_training_markdown(meta_trainings);
  if (!meta_trainings.empty()) core::write_file_atomic(dir + "/meta_training.csv", meta_training_csv(meta_trainings));
  core::write_file_atomic(dir + "/results.csv", core::benchmark_csv(table));
  core::write_file_atomic(dir + "/profiles.csv", core::profiles_csv(table));
  core::write_file_atomic(dir + "/results.md", markdown);
  return markdown;
}

}  // namespace graybox::apps
