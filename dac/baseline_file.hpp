// The baselines' side of a control eval kept in a file (`eval.baselines`), so that evaluating
// another policy on the same instances does not tune and run the baselines again (they are
// about 95 % of an eval's cost and do not depend on the policy). The file holds the inputs its
// results depend on — both instance sets, the seeds, the tuning budget, the control options
// random control acts through — and the tuned factors, the tuning cost and every
// baseline run. It is used only when its inputs equal the eval's; otherwise the eval stops
// naming the first input that differs. It records results, not the code: after a change to the
// training code, delete it.
#pragma once

#include <optional>
#include <string>
#include <nlohmann/json.hpp>

#include "dac/control_eval.hpp"

namespace graybox::dac {

// What the baselines' results depend on, as JSON (compared field by field).
nlohmann::json baseline_inputs(const ControlEvalOptions& options);

struct BaselineResults {
  std::map<std::string, std::map<std::string, TunedFactors>> tuned;
  std::int64_t tuning_minibatches = 0;
  double tuning_seconds = 0;
  std::vector<RunRecord> runs;  // every baseline's test runs
};

// nullopt when `path` does not exist. Throws core::UserError naming the file for a file that is
// not a baselines file, and naming the first differing input when it was computed for others.
std::optional<BaselineResults> read_baseline_file(const std::string& path, const nlohmann::json& inputs);
// Written atomically; doubles round-trip exactly.
void write_baseline_file(const std::string& path, const nlohmann::json& inputs, const BaselineResults& results);

// The path of the first difference between two JSON values ("test[2].budget"), "" if equal.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& at = "");

}  // namespace graybox::dac
