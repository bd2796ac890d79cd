// StudyWorker: the loop of `graybox worker` (and of `graybox tune --storage`) over a study that
// processes on many machines share through a core::WorkQueue. The controller lives in memory,
// brought up to the study's log of decisions at each turn (every decision a worker applies from
// the log is recomputed and must agree with it: a worker whose controller would decide otherwise
// stops with an error). Each turn is one transaction: the previous job's result with the
// controller's reaction, and the next job claimed, or suggested by the controller and claimed.
// The worker trains the job from the trial's last committed checkpoint, renewing its lease on a
// second connection (opened at the first renewal, kept for the worker's life) every third of
// the lease, and writes the new checkpoint into a folder of its own
// (trials/<id>/job<j>-a<attempt>: a stale worker never overwrites the checkpoint of the attempt
// that took over). A worker that lost its lease stops training; its late result is refused. A
// worker told to stop gives its job back to the queue.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "controllers/controller.hpp"
#include "core/trial_factory.hpp"
#include "core/work_queue.hpp"

namespace graybox::controllers {

struct WorkerOptions {
  std::string name;            // in the store's job rows and messages (host:pid)
  double lease_seconds = 10.0;
  int max_trials = 0;          // commit at most this many jobs (0: no limit)
  double idle_exit = 0.0;      // leave after this long without a job to run (0: when the study is done)
  bool quiet = false;
};

struct TrialResult;

class StudyWorker {
 public:
  using ControllerMaker = std::function<std::unique_ptr<Controller>()>;
  using QueueOpener = std::function<std::unique_ptr<core::WorkQueue>()>;

  // `open_heartbeat_queue` opens a second connection to the study, for the lease renewals.
  StudyWorker(const core::SearchSpace& space, const core::TrialFactory& factory, ControllerMaker make_controller,
              core::WorkQueue& queue, QueueOpener open_heartbeat_queue, std::string dir, std::uint64_t seed,
              std::int64_t max_units, WorkerOptions options);

  // Works until the study is done, max_trials jobs are committed, idle_exit passes without a job,
  // or `stop` returns true (checked between jobs and at every budget unit). Returns the number
  // of results this worker committed.
  int run(const std::function<bool()>& stop = {});
  int refused() const { return refused_; }
  // The worker's own round trips to the store (turns, catch-ups of the log, the done check; the
  // lease renewals run beside training on their own connection) and their seconds, against the
  // seconds spent in jobs (loading, training, scoring, saving).
  int store_calls() const { return store_calls_; }
  double store_seconds() const { return store_seconds_; }
  double work_seconds() const { return work_seconds_; }
  ~StudyWorker();

 private:
  friend std::unique_ptr<Controller> replay_study(const ControllerMaker&, core::WorkQueue&);
  using Finished = std::pair<core::WorkQueue::Job, core::WorkQueue::Result>;
  // Trains `job`; none if it stopped (then it is given back).
  std::optional<Finished> work(const core::WorkQueue::Job& job, const std::function<bool()>& stop);
  void train_interval(core::Trainable& trainable, std::int64_t units, const std::function<bool()>& stop,
                      core::MetricSink& sink, TrialResult& result) const;
  // Counts and reports the committed or refused result of the turn that took `finished`.
  void account(const Finished& finished, bool accepted);

  const core::SearchSpace& space_;
  const core::TrialFactory& factory_;
  core::WorkQueue& queue_;
  QueueOpener open_heartbeat_queue_;
  std::unique_ptr<core::WorkQueue> heartbeat_queue_;
  class Replay;  // the controller, replaying the study's log
  std::unique_ptr<Replay> replay_;
  std::string dir_;
  std::uint64_t seed_;
  std::int64_t max_units_;
  WorkerOptions options_;
  int committed_ = 0, refused_ = 0, store_calls_ = 0;
  double store_seconds_ = 0.0, work_seconds_ = 0.0;
};

// The study's controller after every decision in its log (the driver's summary of a study).
std::unique_ptr<Controller> replay_study(const StudyWorker::ControllerMaker& make_controller, core::WorkQueue& queue);

}  // namespace graybox::controllers
