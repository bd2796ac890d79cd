// PbtController: synchronous PBT and PB2 as a controllers::Controller, for the `graybox worker`
// processes of a study (controllers::StudyWorker). Each member is a trial; each round queues
// one job per member (train one perturbation interval), waits for all of them, then lets
// pbt::Population decide, exactly as the in-process PopulationRunner does: the same stream,
// the same order, so a study on PostgreSQL reaches the scores of one process on SQLite with
// the same seed. A job starts from a committed checkpoint (never one that is not complete):
// its own member's last one, the donor's after an exploit (then reseeded from the member's
// exploit count), or the state its last round started from after a rollback. Lineage, scores
// and values live in the controller's state, which the store's log of decisions rebuilds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controllers/controller.hpp"
#include "pbt/population.hpp"

namespace graybox::pbt {

class PbtController final : public controllers::Controller {
 public:
  // Synchronous mode only (options.synchronous): asynchronous PBT depends on timing.
  PbtController(const PbtOptions& options, const core::SearchSpace& space, const core::TrialFactory& factory,
                std::uint64_t seed);

  std::string name() const override { return population_.options().algorithm; }
  controllers::Suggestion suggest() override;
  // Throws: a member's result needs its steps and checkpoint (on_outcome).
  void on_result(const controllers::Job& job, double loss) override;
  void on_outcome(const controllers::Job& job, const controllers::JobOutcome& outcome) override;
  int planned_trials() const override { return population_.size(); }
  bool continues_trials() const override { return true; }
  std::optional<controllers::JobStart> start_of(const controllers::Job& job) const override;

  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;

  const Population& population() const { return population_; }

 private:
  struct MemberJob {  // a member's job of the current round
    controllers::JobStart start;
    std::int64_t start_steps = 0;  // the trainable's steps at the start
    bool suggested = false;
    std::optional<controllers::JobOutcome> outcome;
  };
  controllers::Job job_of(int member) const;
  void end_round();

  const core::TrialFactory& factory_;
  Population population_;
  std::vector<MemberJob> jobs_;
};

}  // namespace graybox::pbt
