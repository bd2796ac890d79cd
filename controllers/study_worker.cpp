#include "controllers/study_worker.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "controllers/tune_runner.hpp"
#include "core/buffer_sink.hpp"
#include "core/rng.hpp"
#include "core/timing.hpp"

namespace fs = std::filesystem;

namespace graybox::controllers {

StudyWorker::StudyWorker(const core::SearchSpace& space, const core::TrialFactory& factory, ControllerMaker make_controller,
                         core::WorkQueue& queue, QueueOpener open_heartbeat_queue, std::string dir, std::uint64_t seed,
                         std::int64_t max_units, WorkerOptions options)
    : space_(space),
      factory_(factory),
      make_controller_(std::move(make_controller)),
      queue_(queue),
      open_heartbeat_queue_(std::move(open_heartbeat_queue)),
      dir_(std::move(dir)),
      seed_(seed),
      max_units_(max_units),
      options_(std::move(options)) {}

Suggestion::Kind StudyWorker::decide() {
  Suggestion::Kind kind = Suggestion::Kind::kWait;
  queue_.decide([&](const std::string& state, std::optional<core::WorkQueue::NewJob>& queue) {
    auto controller = make_controller_();
    controller->load_state(nlohmann::json::parse(state));
    const Suggestion s = controller->suggest();
    kind = s.kind;
    if (s.kind == Suggestion::Kind::kJob) queue = core::WorkQueue::NewJob{s.job.trial, s.job.budget, values_to_json(s.job.config).dump()};
    return controller->state().dump();
  });
  return kind;
}

int StudyWorker::run(const std::function<bool()>& stop) {
  auto idle_since = core::Clock::now();
  while (!(stop && stop()) && (options_.max_trials <= 0 || committed_ < options_.max_trials)) {
    if (const auto job = queue_.claim(options_.name, options_.lease_seconds)) {
      work(*job, stop);
      idle_since = core::Clock::now();
      continue;
    }
    const Suggestion::Kind kind = decide();
    if (kind == Suggestion::Kind::kJob) continue;
    // Done: leave once no job is left that a dead worker's expired lease could hand back.
    const core::WorkQueue::Counts counts = queue_.counts();
    if (kind == Suggestion::Kind::kDone && counts.running == 0 && counts.queued == 0) break;
    if (options_.idle_exit > 0 && core::seconds_since(idle_since) > options_.idle_exit) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return committed_;
}

void StudyWorker::work(const core::WorkQueue::Job& job, const std::function<bool()>& stop) {
  const auto started = core::Clock::now();
  Job as_job{static_cast<int>(job.trial), values_from_json(nlohmann::json::parse(job.config)), job.budget};

  // The lease, renewed from a connection of its own while the job trains.
  std::atomic<bool> lost{false};
  std::mutex mutex;
  std::condition_variable wake;
  bool finished = false;
  std::thread heartbeat([&] {
    try {
      auto queue = open_heartbeat_queue_();
      std::unique_lock<std::mutex> lock(mutex);
      const auto period = std::chrono::duration<double>(options_.lease_seconds / 3.0);
      while (!wake.wait_for(lock, period, [&] { return finished; })) {
        lock.unlock();
        const bool held = queue->renew(job, options_.lease_seconds);
        lock.lock();
        if (!held) {
          lost = true;
          return;
        }
      }
    } catch (const std::exception& e) {
      // The store is gone for longer than the reconnection allows: the lease cannot be held.
      if (!options_.quiet) std::fprintf(stderr, "%s: cannot renew the lease: %s\n", options_.name.c_str(), e.what());
      lost = true;
    }
  });

  TrialResult result;
  result.trial = as_job.trial;
  result.config = as_job.config;
  result.budget = job.budget;
  const std::string relative = "trials/" + std::to_string(job.trial) + "/job" + std::to_string(job.id) + "-a" +
                               std::to_string(job.attempt);
  core::BufferSink curve;
  std::int64_t start = 0;
  std::unique_ptr<core::Trainable> trainable;
  try {
    const std::uint64_t seed = core::derive_seed(seed_, core::Stream::kTrial, static_cast<std::uint64_t>(job.trial));
    trainable = factory_.make(space_.overrides(as_job.config), seed, max_units_);
    const std::string from = queue_.checkpoint_of(job.trial);
    if (!from.empty()) trainable->load(dir_ + "/" + from);
    start = trainable->steps_done();
    train_and_score(*trainable, factory_, job.budget, [&] { return lost.load() || (stop && stop()); }, curve, result);
    if (result.status != kStopped) {
      // Complete before the store names it: written beside, then renamed.
      const std::string tmp = dir_ + "/" + relative + ".tmp";
      fs::remove_all(tmp);
      fs::create_directories(tmp);
      trainable->save(tmp);
      fs::remove_all(dir_ + "/" + relative);
      fs::rename(tmp, dir_ + "/" + relative);
    }
  } catch (const std::exception& e) {
    record_failure(e, result);
  }
  {
    const std::lock_guard<std::mutex> lock(mutex);
    finished = true;
  }
  wake.notify_all();
  heartbeat.join();
  if (result.status == kStopped) {
    // Stopped, or the lease is gone: another worker takes the job from its last checkpoint.
    if (!options_.quiet) std::fprintf(stderr, "%s: job %lld of trial %lld %s\n", options_.name.c_str(),
                                      static_cast<long long>(job.id), static_cast<long long>(job.trial),
                                      lost ? "lost its lease" : "stopped");
    if (!lost) return;
  }
  if (trainable) result.steps = std::max<std::int64_t>(0, trainable->steps_done() - start);
  result.seconds = core::seconds_since(started);
  const core::WorkQueue::Result row{result.loss, result.score, result.status, result.steps, result.seconds,
                                    result.status == kStopped ? "" : relative};
  const bool accepted = queue_.finish(job, row, options_.name, [&](const std::string& state) {
    auto controller = make_controller_();
    controller->load_state(nlohmann::json::parse(state));
    controller->on_result(as_job, result.loss);
    return controller->state().dump();
  });
  if (accepted) {
    ++committed_;
  } else {
    ++refused_;
    fs::remove_all(dir_ + "/" + relative);  // no committed job names it
  }
  if (!options_.quiet) {
    std::fprintf(stderr, "%s: trial %4lld budget %6lld attempt %d  %s %-12.6g %s\n", options_.name.c_str(),
                 static_cast<long long>(job.trial), static_cast<long long>(job.budget), job.attempt, factory_.metric().c_str(),
                 result.score, accepted ? result.status.c_str() : "refused (the job was taken over)");
  }
}

}  // namespace graybox::controllers
