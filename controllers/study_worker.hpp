// StudyWorker: the loop of `graybox worker` (and of `graybox tune --storage`) over a study that
// processes on many machines share through a core::WorkQueue. Each turn it claims the oldest
// runnable job; with none, it asks the controller for one (under the study's lock: the
// controller's state lives in the store, never in a worker). It trains the job from the trial's
// last committed checkpoint, renewing its lease from a second connection every third of the
// lease, writes the new checkpoint into a folder of its own (trials/<id>/job<j>-a<attempt>:
// a stale worker never overwrites the checkpoint of the attempt that took over), and commits
// the result with the controller's reaction. A worker that lost its lease stops training; its
// late result is refused.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

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

 private:
  // Asks the controller for a job; returns its answer's kind.
  Suggestion::Kind decide();
  void work(const core::WorkQueue::Job& job, const std::function<bool()>& stop);

  const core::SearchSpace& space_;
  const core::TrialFactory& factory_;
  ControllerMaker make_controller_;
  core::WorkQueue& queue_;
  QueueOpener open_heartbeat_queue_;
  std::string dir_;
  std::uint64_t seed_;
  std::int64_t max_units_;
  WorkerOptions options_;
  int committed_ = 0, refused_ = 0;
};

}  // namespace graybox::controllers
