// The plan of a `graybox bench` run, read from BENCH.yaml: methods x tasks x seeds.
//
// A task is a base config (a `graybox train` or `graybox fit` file, plus --set overrides). A
// method says what runs on it:
//   command train | fit   the task's config with the method's --set overrides (CleanRL's
//                         defaults, a learning-rate schedule, ...);
//   command tune          a tune config (random, BOHB, PBT, PB2, ...) whose base_config is the task;
//   command control       the meta-controller of dac/: its `graybox control train` config (with
//                         `set`) is meta-trained once per benchmark (bench_meta.hpp), and every cell
//                         deploys that policy on a fit task (`controller.policy`, with `deploy_set`).
// Every key has a default and a one-line doc (bench_schema, bench_entry_fields: `graybox keys
// bench`); bad input is a ConfigError naming the file, line, column and field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config_schema.hpp"

namespace graybox::apps {

// The commands a method may run.
extern const std::vector<std::string> kMethodCommands;

struct BenchEntry {
  std::string name;
  std::string command;            // methods only: train, fit, tune or control
  std::string config;             // absolute path ("" for a train/fit method: the task's config)
  std::vector<std::string> sets;  // --set KEY=VALUE, `set` then (with --smoke) `smoke_set`
  std::vector<std::string> deploy_sets;  // control methods: --set of each cell's fit run
};

struct BenchPlan {
  std::string source;  // the BENCH.yaml path
  std::vector<BenchEntry> methods, tasks;
  std::vector<std::int64_t> seeds;
  std::string baseline;
  std::string score;  // eval | summary
  int eval_episodes = 10;
  bool maximize = true;
  std::int64_t budget = 0;
  double budget_tolerance = 0.1;
  int parallel = 1;
  int replicates = 2000;
  std::uint64_t bootstrap_seed = 0;
  bool smoke = false;

  nlohmann::json to_json() const;
  static BenchPlan from_json(const nlohmann::json& j);
};

core::ConfigSchema bench_schema();
// The fields of an entry under `methods:` and `tasks:`: key, default, doc.
struct EntryField {
  std::string key, default_value, doc;
};
const std::vector<EntryField>& bench_entry_fields();

// Reads and checks BENCH.yaml; `smoke` applies every entry's smoke_set and smoke.seeds.
BenchPlan load_bench_plan(const std::string& path, bool smoke);

}  // namespace graybox::apps
