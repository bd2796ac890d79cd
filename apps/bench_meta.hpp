// The meta-training of a benchmark's control methods. A control method's cost has two parts that
// are reported apart: its meta-training (`graybox control train` of the method's config with
// `set`, once per benchmark, in BENCH_DIR/meta/<method>, before any of its cells) and its
// deployment (each cell: a graybox fit run of the task steered by that policy, whose minibatches
// are the cell's budget like any fit cell's). A killed benchmark continues an unfinished
// meta-training with --resume and never redoes a finished one.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/bench_cell.hpp"
#include "apps/bench_plan.hpp"
#include "core/store.hpp"

namespace graybox::apps {

struct MetaTraining {
  std::string method;
  std::string status;  // finished, diverged (its last good policy is deployed), failed, stopped
  std::int64_t control_steps = 0, episodes = 0, minibatches = 0;
  double wall_seconds = 0.0;
  std::string message;  // why it failed

  nlohmann::json to_json() const;
  static MetaTraining from_json(const nlohmann::json& j);
};

std::string meta_training_dir(const std::string& bench_dir, const std::string& method);
std::string meta_policy_path(const std::string& bench_dir, const std::string& method);
std::string meta_training_log(const std::string& bench_dir, const std::string& method);

// Runs (or continues, or reads back) the meta-training of a control method.
MetaTraining run_meta_training(const std::string& bench_dir, const BenchEntry& method, const ChildWatcher& watch);

// The meta-trainings a benchmark committed (store meta key "meta_training"), and that record.
std::vector<MetaTraining> saved_meta_trainings(const core::Store& store);
void save_meta_trainings(core::Store& store, const std::vector<MetaTraining>& done);
nlohmann::json meta_trainings_json(const std::vector<MetaTraining>& done);

// A markdown section on the meta-training cost ("" when there is none) and its CSV.
std::string meta_training_markdown(const std::vector<MetaTraining>& done);
std::string meta_training_csv(const std::vector<MetaTraining>& done);

}  // namespace graybox::apps
