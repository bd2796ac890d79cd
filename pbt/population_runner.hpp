// PopulationRunner: population-based training (PBT, PB2) of N members of one trainable.
//
// Synchronous mode: each round every member trains one perturbation interval (TBB, `parallel`
// at a time), then, in member order on one thread, pbt::Population decides: members with a
// non-finite score are rolled back to their last checkpoint and explore from their own values;
// the rest are ranked, the bottom quantile copies donors from the top (in memory:
// Trainable::copy_state_from) and explores. Every random draw comes from one seeded stream, so
// the run depends only on the seed (and `graybox worker` processes, through pbt::PbtController,
// reach the same scores).
// Each member's state is then written to members/<i>/r<round>/ and the change of the
// population's state (new history rows and lineage events, the members' new values: a
// StateJournal entry, never the whole history again) is committed to the store together with
// the round's results, so --resume continues after the
// last committed round and reaches the same final scores as a run that was never stopped.
//
// Asynchronous mode: a member that finishes an interval compares itself with the latest scores
// of the others at once (it copies a donor's state as of the donor's last finished interval),
// so no member waits for the slowest; the result depends on timing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/files.hpp"
#include "core/search_space.hpp"
#include "core/state_journal.hpp"
#include "core/store.hpp"
#include "core/trial_factory.hpp"
#include "pbt/lineage.hpp"
#include "pbt/population.hpp"

namespace graybox::pbt {

class PopulationRunner {
 public:
  PopulationRunner(const PbtOptions& options, const core::SearchSpace& space, const core::TrialFactory& factory,
                   core::Store& store, std::string dir, std::uint64_t seed);
  ~PopulationRunner();

  // Restores the population from the store and the members' checkpoints; false if nothing was
  // committed yet.
  bool resume();
  // Runs until every member has max_budget units, or until on_round (called after each
  // committed round; async: after each committed interval) returns false.
  void run(const std::function<bool()>& on_round = {});

  int size() const { return static_cast<int>(members_.size()); }
  const core::Configuration& config(int member) const;
  double score(int member) const;            // the latest (NaN before the first interval)
  std::int64_t steps(int member) const;      // trainable steps
  int best() const;                          // the member with the best latest score
  const std::vector<LineageEvent>& lineage() const { return population_.lineage(); }
  const std::vector<MemberRecord>& history() const { return population_.history(); }
  std::int64_t total_units() const { return population_.total_steps(); }  // steps, summed over members
  int rounds() const { return population_.rounds(); }
  double train_seconds() const { return train_seconds_; }
  double exploit_seconds() const { return exploit_seconds_; }    // in-memory copies
  double decision_seconds() const { return decision_seconds_; }  // selection, explore, PB2
  std::uint64_t member_seed(int member) const;
  const Population& population() const { return population_; }

  // Writes lineage.json, lineage.dot and schedules/best.yaml into the run directory; returns
  // the best member's ancestry.
  std::vector<Segment> export_lineage() const;

 private:
  struct Member;
  void start();
  void apply_config(Member& m);
  MemberState& record(const Member& m);  // what the population knows of it
  const MemberState& record(const Member& m) const;
  // Trains one interval; returns the score (NaN: diverged, or unscored when the task has
  // nothing to score it by yet).
  double train_member(Member& m, std::int64_t units, bool& unscored);
  void save_checkpoint(Member& m, const std::string& tag);
  void commit(const std::vector<std::string>& obsolete);
  void run_synchronous(const std::function<bool()>& on_round);
  void run_asynchronous(const std::function<bool()>& on_round);
  // Async: decide for one member; returns the donor behind it that it waits for, or -1.
  int after_interval(Member& m);
  void exploit_caught_up(Member& loser, const Member& donor);
  const core::Trainable& offered_state(const Member& m) const;
  // Carries out the population's latest event for `m`: its values as hyperparameters, the event
  // and the values in the store.
  void record_event(Member& m, LineageEvent& e);
  double exploit(Member& loser, const Member& donor);  // returns the copy's seconds
  void copy_donor(Member& loser, const Member& donor);  // the in-memory copy behind an exploit
  void rollback(Member& m);
  std::unique_ptr<core::DirLock> lock_member(int member) const;  // members/<i>/lock

  PbtOptions options_;
  const core::SearchSpace& space_;
  const core::TrialFactory& factory_;
  core::Store& store_;
  core::StateJournal journal_;  // the resume state, in the store's state log "pbt"
  std::string dir_;
  Population population_;  // every decision
  std::vector<std::unique_ptr<Member>> members_;
  double train_seconds_ = 0.0, exploit_seconds_ = 0.0, decision_seconds_ = 0.0;
  std::mutex mutex_;  // async: the population's shared state
};

}  // namespace graybox::pbt
