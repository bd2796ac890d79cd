// The baselines' side of a control eval kept in a file (`eval.baselines`), so that evaluating
// another policy on the same instances does not tune and run the baselines again (they are
// about 95 % of an eval's cost and do not depend on the policy). The file holds the inputs its
// results depend on — both instance sets, the seeds, the tuning budget, the control options
// random control acts through — and the tuned factors, the tuning cost and every
// baseline run. It is used only when its inputs equal the eval's; otherwise the eval stops
// naming the first input that differs. It records results, not the code: after a change to the
// training code, delete it.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <nlohmann/json.hpp>

#include "dac/control_eval.hpp"

namespace graybox::dac {

// What the baselines' results depend on, as JSON (compared field by field).
nlohmann::json baseline_inputs(const ControlEvalOptions& options);

struct BaselineResults {
  std::map<std::string, std::map<std::string, TunedFactors>> tuned;  // finished tunings
  std::int64_t tuning_minibatches = 0;
  double tuning_seconds = 0;
  std::vector<RunRecord> runs;  // every baseline's test runs (so far, when not complete)
  // Every trial of every tuning, finished or not ([baseline][sgd|adamw], in proposal order).
  std::map<std::string, std::map<std::string, std::vector<FactorTrial>>> trials;
  bool complete = true;  // false: an eval stopped before its last baseline run
};

// nullopt when `path` does not exist (a file written before `complete` existed is complete). Throws core::UserError naming the file for a file that is
// not a baselines file, and naming the first differing input when it was computed for others.
std::optional<BaselineResults> read_baseline_file(const std::string& path, const nlohmann::json& inputs);
// Written atomically; doubles round-trip exactly.
void write_baseline_file(const std::string& path, const nlohmann::json& inputs, const BaselineResults& results);

// The baselines file written while an eval runs: after every tuning trial and every test run
// (whole, atomically, "complete": false until the last run), so that an eval killed at any
// moment loses at most the trials and runs in flight; the next eval with the same inputs
// replays the recorded trials and keeps the recorded runs. Thread-safe; with an empty path it
// only keeps the results in memory.
class BaselineJournal {
 public:
  BaselineJournal(std::string path, nlohmann::json inputs, BaselineResults start);
  std::vector<FactorTrial> trials(const std::string& baseline, const std::string& group) const;
  std::optional<RunRecord> find_run(const std::string& method, const std::string& instance, int seed) const;
  // `tuning_seconds`: the tuning's wall time so far, over every eval that worked on it.
  void add_trial(const std::string& baseline, const std::string& group, const FactorTrial& trial, double tuning_seconds);
  void finish_tuning(const std::string& baseline, const std::string& group, const TunedFactors& tuned);
  void set_tuning_cost(std::int64_t minibatches, double seconds);
  void add_run(const RunRecord& run);
  void complete();  // marks the file complete and writes it
  double tuning_seconds() const;

 private:
  void write_locked() const;
  std::string path_;
  nlohmann::json inputs_;
  BaselineResults results_;
  mutable std::mutex mutex_;
};

// The path of the first difference between two JSON values ("test[2].budget"), "" if equal.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& at = "");

}  // namespace graybox::dac
