// A benchmark directory's results: the plan saved in its store, the cells committed as done,
// and the tables computed from them (results.csv, profiles.csv, results.md), shared by
// `graybox bench` and `graybox report BENCH_DIR`.
#pragma once

#include <string>
#include <vector>

#include "apps/bench_meta.hpp"
#include "apps/bench_plan.hpp"
#include "core/benchmark_table.hpp"
#include <memory>
#include <string>
#include <utility>

#include "core/store.hpp"

namespace graybox::apps {

// A benchmark's store: <dir>/store.sqlite, or the one that <dir>/storage.json names (a benchmark
// started with --storage URL --study NAME keeps its plan and cells there). Null if neither is there.
std::unique_ptr<core::Store> open_bench_store(const std::string& dir);
// Writes <dir>/storage.json for a benchmark whose store is `url`, study `study`.
void write_bench_storage(const std::string& dir, const std::string& url, const std::string& study);
// The storage URL and study a benchmark directory names (empty if it keeps store.sqlite).
std::pair<std::string, std::string> bench_storage(const std::string& dir);

// Whether the store is a benchmark's (meta kind = bench).
bool is_bench_store(const core::Store& store);
BenchPlan saved_plan(const core::Store& store);
// The runs of the cells committed as done.
std::vector<core::BenchmarkRun> bench_runs(const core::Store& store, const BenchPlan& plan);
core::BenchmarkOptions bench_options(const BenchPlan& plan);
// Writes results.csv, profiles.csv, results.md (with the meta-training cost, when a control method
// has one) and meta_training.csv (then) into `dir`; returns the markdown.
std::string write_bench_tables(const std::string& dir, const core::BenchmarkTable& table, const core::BenchmarkOptions& options,
                               const std::vector<MetaTraining>& meta_trainings);

}  // namespace graybox::apps
