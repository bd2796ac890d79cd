// WorkQueue: a study's jobs in a shared store, for `graybox worker` processes on any machine.
// A job trains one trial to a budget. A worker claims the oldest runnable job (queued, or
// running under a lease that expired: its holder died or stalled) and holds it under a lease it
// renews while it trains; every claim counts an attempt. A result is committed only with the
// attempt that holds the job now, so the late write of a worker whose lease was taken is
// refused. Controller decisions run under the study's lock, in the transaction that queues the
// job they decide or commits the result they react to, so workers reporting at once can
// neither double-book a job nor lose a decision.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace graybox::core {

class WorkQueue {
 public:
  struct Job {
    std::int64_t id = 0;
    std::int64_t trial = 0, budget = 0;
    int attempt = 0;       // 1 for the first claim
    std::string config;    // JSON of the trial's values
  };
  struct Result {
    double loss = 0.0, score = 0.0;
    std::string status;
    std::int64_t steps = 0;
    double seconds = 0.0;
    std::string checkpoint;  // relative to the study's directory; "" for none
  };
  struct NewJob {
    std::int64_t trial = 0, budget = 0;
    std::string config;
  };
  // A controller decision: reads the controller's state, returns its new state, and may queue a job.
  using Decision = std::function<std::string(const std::string& state, std::optional<NewJob>& queue)>;

  virtual ~WorkQueue() = default;

  // Creates the study: its shared directory and the controller's first state. False if it exists.
  virtual bool create_study(const std::string& dir, const std::string& controller_state) = 0;
  // The study's directory, or "" if there is no such study.
  virtual std::string study_dir() = 0;

  // Claims the oldest runnable job for `worker` (SELECT ... FOR UPDATE SKIP LOCKED) with a lease
  // of `lease_seconds`; none if no job is runnable.
  virtual std::optional<Job> claim(const std::string& worker, double lease_seconds) = 0;
  // Extends the lease; false if `job` is no longer this attempt's (taken over, or finished).
  virtual bool renew(const Job& job, double lease_seconds) = 0;
  // Runs `decide` under the study's lock and queues the job it asks for, in one transaction.
  virtual void decide(const Decision& decide) = 0;
  // Commits `result` if `job`'s attempt still holds the job, together with `react` (the
  // controller's reaction, under the study's lock) and the trial's row and score. False: refused
  // (the job was taken over); the refusal is recorded as an event "refused_result".
  virtual bool finish(const Job& job, const Result& result, const std::string& worker,
                      const std::function<std::string(const std::string& state)>& react) = 0;

  // The checkpoint of the trial's last committed job ("" if none).
  virtual std::string checkpoint_of(std::int64_t trial) = 0;
  struct Counts {
    std::int64_t queued = 0, running = 0, done = 0;
  };
  virtual Counts counts() = 0;
  // The committed jobs, in the order they were committed.
  virtual std::vector<std::pair<Job, Result>> results() = 0;
  virtual std::string controller_state() = 0;
};

}  // namespace graybox::core
