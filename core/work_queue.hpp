// WorkQueue: a study's jobs in a shared store, for `graybox worker` processes on any machine.
// A job trains one trial to a budget. A worker claims the oldest runnable job (queued, or
// running under a lease that expired: its holder died or stalled) and holds it under a lease it
// renews while it trains; every claim counts an attempt. A result is committed only with the
// attempt that holds the job now, so the late write of a worker whose lease was taken is
// refused.
//
// The controller's decisions are an append-only log in the store (entries 1, 2, ...), after the
// controller's first state: every worker keeps the controller in memory and applies the entries
// the others appended since its last turn (a Decider), so a decision costs one appended entry
// however long the study has run; a snapshot of the controller's state every so many entries lets
// a worker that joins late start from the latest one instead of replaying the whole log. A worker's turn is one transaction under the study's lock:
// the previous job's result and the controller's reaction, then the next job claimed, or the
// controller's suggestion queued and claimed. Workers reporting at once can neither double-book
// a job nor lose a decision.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace graybox::core {

class WorkQueue {
 public:
  struct Job {
    std::int64_t id = 0;
    std::int64_t trial = 0, budget = 0;
    int attempt = 0;         // 1 for the first claim
    std::string config;      // JSON of the trial's values
    std::string checkpoint;  // when claimed: the trial's last committed checkpoint ("" for none)
  };
  struct Result {
    double loss = 0.0, score = 0.0;
    std::string status;
    std::int64_t steps = 0;
    double seconds = 0.0;
    std::string checkpoint;  // relative to the study's directory; "" for none
    // The trainable has nothing left to train (reaches the controller through its log entry;
    // the store's row does not keep it).
    bool finished = false;
  };
  struct NewJob {
    std::int64_t trial = 0, budget = 0;
    std::string config;
  };

  // The controller's side of a turn, called under the study's lock in the turn's transaction
  // (and, to catch up after a start or a failed turn, outside it). An entry is opaque text.
  class Decider {
   public:
    virtual ~Decider() = default;
    // How many entries of the log the controller has applied (0: it starts from the first state).
    virtual std::int64_t applied() const = 0;
    // Sets the controller to the study's first state (applied() becomes 0).
    virtual void start(const std::string& first_state) = 0;
    // Applies entry applied() + 1, appended by some worker; throws if this controller would not
    // have decided what it says.
    virtual void apply(const std::string& entry) = 0;
    // The controller's reaction to an accepted result, applied; returns its entry.
    virtual std::string react(const Job& job, const Result& result) = 0;
    // Asks the controller for a job; `queue` is set to the job it starts. Returns the entry to
    // append ("" for none: a wait, or a done that the log already holds); `done` is set when the
    // controller has nothing left to start.
    virtual std::string suggest(std::optional<NewJob>& queue, bool& done) = 0;
    // The turn did not commit: forget the controller (applied() becomes 0).
    virtual void forget() = 0;
    // The controller's state after applied() entries, for a snapshot ("": this decider keeps none).
    virtual std::string snapshot() const { return ""; }
    // Sets the controller to a snapshot taken after entry `applied`; false if it cannot (then
    // the caller starts from the first state and replays the whole log).
    virtual bool resume_from(const std::string& snapshot, std::int64_t applied) {
      (void)snapshot;
      (void)applied;
      return false;
    }
  };

  struct Turn {
    bool accepted = false;    // the finished job's result is committed (false: refused, or none given)
    std::optional<Job> next;  // the job claimed for this worker
    bool done = false;        // no job was runnable and the controller has nothing left to start
  };

  virtual ~WorkQueue() = default;

  // Creates the study: its shared directory and the controller's first state. False if it exists.
  virtual bool create_study(const std::string& dir, const std::string& controller_state) = 0;
  // The study's directory, or "" if there is no such study.
  virtual std::string study_dir() = 0;

  // One worker's turn, in one transaction: commits `finished`'s result if its attempt still
  // holds the job (a refusal is recorded as an event "refused_result") with the trial's row and
  // score and the controller's reaction; then, if `claim`, claims for `worker` the oldest runnable
  // job with a lease of `lease_seconds`, or, with none runnable, the job the controller suggests.
  // A result whose commit landed but whose acknowledgment was lost is found committed, not refused.
  virtual Turn turn(const std::optional<std::pair<Job, Result>>& finished, bool claim, const std::string& worker,
                    double lease_seconds, Decider& decider) = 0;
  // Extends the lease; false if `job` is no longer this attempt's (taken over, or finished).
  virtual bool renew(const Job& job, double lease_seconds) = 0;
  // Gives a job this attempt holds back to the queue (a worker that leaves without finishing it).
  virtual void release(const Job& job) = 0;

  struct Counts {
    std::int64_t queued = 0, running = 0, done = 0;
  };
  virtual Counts counts() = 0;
  // The committed jobs, in the order they were committed.
  virtual std::vector<std::pair<Job, Result>> results() = 0;
  // The controller's first state and the log of its decisions, in order (those after entry `after`).
  virtual std::string controller_state() = 0;
  virtual std::vector<std::string> decisions(std::int64_t after = 0) = 0;
};

}  // namespace graybox::core
