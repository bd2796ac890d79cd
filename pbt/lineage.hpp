// Lineage of a population: what each member started with, every exploit (a loser became a copy
// of a donor and explored from there) and every rollback (a diverged member went back to its
// last good state and explored away from it). From it: the best member's ancestry, its
// hyperparameter schedule, and JSON / Graphviz exports.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace graybox::pbt {

struct LineageEvent {
  std::string kind;              // "start", "exploit" or "rollback"
  int member = 0;
  int donor = -1;                // exploit: whose state was copied
  std::int64_t member_step = 0;  // trainable steps of the member before the event
  std::int64_t donor_step = 0;   // exploit: the donor's steps (the member's after the copy);
                                 // rollback: the step the member went back to
  nlohmann::json old_config, new_config;  // {search-space key: value}
  std::map<std::string, double> hyperparameters;  // after the event, by hyperparameter name
  double member_score = 0.0, donor_score = 0.0;
  // Across workers: the committed checkpoint an exploit copied (the donor's) or a rollback went
  // back to, relative to the study's directory ("" in one process, whose copies are in memory).
  std::string checkpoint;

  nlohmann::json to_json() const;
  static LineageEvent from_json(const nlohmann::json& j);
};

// A stretch of the ancestry: `member` trained from `from` to `to` steps with these values.
struct Segment {
  int member = 0;
  std::int64_t from = 0, to = 0;
  nlohmann::json config;
  std::map<std::string, double> hyperparameters;
};

// The chain of states that ends in `member` at `final_step`, oldest first. `events` is in the
// order they happened.
std::vector<Segment> ancestry(const std::vector<LineageEvent>& events, int member, std::int64_t final_step);

// Per hyperparameter name, the (step, value) points where the ancestry changed it (hold).
std::map<std::string, std::vector<std::pair<double, double>>> schedule_of(const std::vector<Segment>& chain);

// schedules file: {unit: steps, hyperparameters: {name: {interpolation: hold, points: [[t, v], ...]}}}
struct HyperparameterSchedules {
  std::string unit = "steps";
  std::map<std::string, std::vector<std::pair<double, double>>> points;  // hold interpolation
  // The values at step t (each name's last point at or before t; its first point before that).
  std::map<std::string, double> at(double t) const;
};
void write_schedules(const std::string& path, const HyperparameterSchedules& schedules);
HyperparameterSchedules read_schedules(const std::string& path);  // throws core::UserError

// Graphviz: one node per member (label: member, final score), one edge donor -> member per
// exploit (label: the step), the best member's ancestry in bold red.
std::string lineage_dot(const std::vector<LineageEvent>& events, const std::map<int, double>& final_scores,
                        const std::vector<Segment>& best_chain);

// One member as the exports show it (config: {search-space key: value}, or null if unknown).
struct MemberSummary {
  int member = 0;
  double score = 0.0;  // NaN: none yet
  std::int64_t steps = 0;
  nlohmann::json config;
};

// Writes <dir>/lineage.json (returned), <dir>/lineage.dot and <dir>/schedules/best.yaml (the
// best member's schedule of the `tuned` hyperparameters only: the rest never change).
nlohmann::json write_lineage_exports(const std::string& dir, const std::vector<LineageEvent>& events,
                                     const std::vector<MemberSummary>& members, int best,
                                     const std::vector<Segment>& best_chain, const std::string& metric,
                                     bool maximize, const std::set<std::string>& tuned);

}  // namespace graybox::pbt
