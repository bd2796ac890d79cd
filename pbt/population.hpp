// Population: the decisions of PBT and PB2 over the members' records (values, scores, steps,
// checkpoints), apart from training them: the one implementation that the in-process
// PopulationRunner and the workers' PbtController share, so a population trained by `graybox
// worker` processes decides exactly what one process would. Every random draw comes from one
// stream seeded from the experiment, in a fixed order (the members' first values in member
// order; per round: the rollbacks' explores, the quantile draw, the exploits' explores).
//
// A caller trains the members, reports each finished interval (record_interval), and carries out
// the events a decision returns: a rollback sends the member back to its last good state, an
// exploit makes the loser a copy of the donor that then draws from exploit_seed() and takes the
// record's new values as hyperparameters.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/search_space.hpp"
#include "core/trial_factory.hpp"
#include "pbt/explore.hpp"
#include "pbt/lineage.hpp"
#include "pbt/pb2.hpp"

namespace graybox::pbt {

struct PbtOptions {
  std::string algorithm = "pbt";  // pbt or pb2
  int population = 4;
  std::int64_t interval = 1;      // units between perturbations
  std::int64_t burn_in = 0;       // units before the first perturbation
  std::int64_t max_budget = 1;    // units per member
  double quantile_fraction = 0.25;
  ExploreOptions explore;
  bool synchronous = true;
  int parallel = 1;
};

struct MemberRecord {  // one member's score after an interval (the history)
  int member = 0;
  std::int64_t step = 0;  // trainable steps
  double score = 0.0;
  nlohmann::json config;
};

// What the population knows of one member.
struct MemberState {
  core::Configuration config;
  double score = std::nan("");        // the task's metric after the latest interval (NaN: none)
  double gain_before = std::nan("");  // PB2: the gain at the start of the interval
  bool unscored = false;              // the latest interval left nothing to score it by
  bool finished = false;              // its trainable has nothing left to train
  // Trainable steps after its latest finished interval, exploit or rollback.
  std::int64_t steps = 0;
  std::string checkpoint;  // its last committed checkpoint (set by the caller)
};

class Population {
 public:
  Population(const PbtOptions& options, const core::SearchSpace& space, const core::TrialFactory& factory,
             std::uint64_t seed);

  const PbtOptions& options() const { return options_; }
  const core::SearchSpace& space() const { return space_; }
  int size() const { return static_cast<int>(members_.size()); }
  MemberState& member(int i) { return members_.at(static_cast<std::size_t>(i)); }
  const MemberState& member(int i) const { return members_.at(static_cast<std::size_t>(i)); }
  std::uint64_t member_seed(int member) const;
  // The stream a member draws from after its latest exploit (derived from its seed and exploit count).
  std::uint64_t exploit_seed(int member) const;
  double loss_of(double score) const;  // lower is better; NaN for a non-finite score
  int best() const;                    // the member with the best latest score (-1: none)
  bool all_done() const;               // every member has max_budget units or is finished
  std::set<std::string> tuned_names() const;  // the tuned hyperparameters, by hyperparameter name
  std::vector<LineageEvent>& lineage() { return lineage_; }
  const std::vector<LineageEvent>& lineage() const { return lineage_; }
  const std::vector<MemberRecord>& history() const { return history_; }
  std::int64_t total_steps() const { return total_steps_; }  // trained by all members
  int rounds() const { return round_; }
  void count_round() { ++round_; }
  core::Rng& rng() { return rng_; }  // the one stream (async mode's quantile draws)

  // The members' first values, drawn in member order, each with its "start" event (whose
  // hyperparameters the caller fills in).
  void start();
  // A finished interval of `trained` steps that left the member at `steps` with `score` (NaN:
  // diverged or unscored): its history row and PB2's data point.
  void record_interval(int member, std::int64_t steps, double score, bool unscored, bool finished, std::int64_t trained);
  // Synchronous mode, after every member's record_interval of the round (each started the round
  // at round_start_steps[i], its last committed checkpoint): rollbacks of the diverged members,
  // then, unless every member is done, the bottom quantile's exploits of the top (with burn-in).
  // Returns the indices of the new lineage events, in the order decided.
  std::vector<std::size_t> end_round(const std::vector<std::int64_t>& round_start_steps);
  // The loser's record becomes the donor's (at `copied_steps`, the steps of the state it copies)
  // with values explored from the donor's (PB2: chosen by its model). Returns the new event.
  LineageEvent& exploit(int loser, int donor, std::int64_t copied_steps);
  // A diverged member back at `steps`, its last good state, exploring away from the values that
  // diverged. Returns the new event.
  LineageEvent& rollback(int member, std::int64_t steps);

  // The population's part of the resume state (round, stream, members, lineage, history, PB2's data).
  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

 private:
  core::Configuration new_config(int member, const core::Configuration& from, double t, double gain);

  PbtOptions options_;
  const core::SearchSpace& space_;
  const core::TrialFactory& factory_;
  std::uint64_t seed_;
  core::Rng rng_;
  std::vector<MemberState> members_;
  std::vector<LineageEvent> lineage_;
  std::vector<MemberRecord> history_;
  std::vector<Pb2Point> pb2_data_;
  std::int64_t total_steps_ = 0;
  int round_ = 0;
};

// A score or gain in saved state: JSON has no NaN, so null stands for it.
nlohmann::json score_to_json(double v);
double score_from_json(const nlohmann::json& j);

// Writes lineage.json, lineage.dot and schedules/best.yaml into `dir`; returns the best member's
// ancestry.
std::vector<Segment> export_lineage(const std::string& dir, const Population& population, const core::TrialFactory& factory);

}  // namespace graybox::pbt
