// A benchmark directory's results: the plan saved in its store, the cells committed as done,
// and the tables computed from them (results.csv, profiles.csv, results.md), shared by
// `graybox bench` and `graybox report BENCH_DIR`.
#pragma once

#include <string>
#include <vector>

#include "apps/bench_plan.hpp"
#include "core/benchmark_table.hpp"
#include "core/store.hpp"

namespace graybox::apps {

// Whether the store is a benchmark's (meta kind = bench).
bool is_bench_store(const core::Store& store);
BenchPlan saved_plan(const core::Store& store);
// The runs of the cells committed as done.
std::vector<core::BenchmarkRun> bench_runs(const core::Store& store, const BenchPlan& plan);
core::BenchmarkOptions bench_options(const BenchPlan& plan);
// Writes results.csv, profiles.csv and results.md into `dir`; returns the markdown table.
std::string write_bench_tables(const std::string& dir, const core::BenchmarkTable& table, const core::BenchmarkOptions& options);

}  // namespace graybox::apps
