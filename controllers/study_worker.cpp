#include "controllers/study_worker.hpp"

#include <atomic>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "controllers/hyperparameter_values.hpp"
#include "controllers/tune_runner.hpp"
#include "core/buffer_sink.hpp"
#include "core/rng.hpp"
#include "core/timing.hpp"

namespace fs = std::filesystem;

namespace graybox::controllers {

namespace {

// A loss in a log entry: JSON has no infinity (a crashed trial reports +inf).
nlohmann::json encode_loss(double loss) {
  if (std::isfinite(loss)) return loss;
  return std::isnan(loss) ? "nan" : loss > 0 ? "inf" : "-inf";
}
double decode_loss(const nlohmann::json& loss) {
  if (loss.is_number()) return loss.get<double>();
  const std::string text = loss.get<std::string>();
  return text == "nan" ? std::nan("") : text == "inf" ? HUGE_VAL : -HUGE_VAL;
}

Job job_of(const nlohmann::json& entry) {
  return Job{entry.at("trial").get<int>(), values_from_json(entry.at("config")), entry.at("budget").get<std::int64_t>()};
}

// A result entry's outcome (entries written before they held status, steps and checkpoint
// have only the loss).
JobOutcome outcome_of(const nlohmann::json& entry) {
  JobOutcome o;
  o.loss = decode_loss(entry.at("loss"));
  o.status = entry.value("status", std::string(std::isfinite(o.loss) ? "ok" : "diverged"));
  o.steps = entry.value("steps", std::int64_t{0});
  o.checkpoint = entry.value("checkpoint", std::string());
  o.finished = entry.value("finished", false);
  return o;
}

}  // namespace

// The log's entries: {"result": {trial, budget, config, loss, status, steps, checkpoint}}
// (on_outcome), {"job": {trial,
// budget, config}} (a suggestion that started a job) and {"done": true} (the first suggestion
// that found nothing left to start). A wait is not logged: it changes no controller's state.
class StudyWorker::Replay final : public core::WorkQueue::Decider {
 public:
  explicit Replay(ControllerMaker make) : make_(std::move(make)) {}

  std::int64_t applied() const override { return applied_; }
  void start(const std::string& first_state) override {
    controller_ = make_();
    controller_->load_state(nlohmann::json::parse(first_state));
    applied_ = 0;
    done_ = false;
  }
  void apply(const std::string& entry) override {
    const nlohmann::json e = nlohmann::json::parse(entry);
    if (e.contains("result")) {
      controller_->on_outcome(job_of(e.at("result")), outcome_of(e.at("result")));
      done_ = false;
    } else {
      const Suggestion s = controller_->suggest();
      const bool same = e.contains("job") ? s.kind == Suggestion::Kind::kJob && s.job.trial == e.at("job").at("trial").get<int>() &&
                                                s.job.budget == e.at("job").at("budget").get<std::int64_t>() &&
                                                values_to_json(s.job.config) == e.at("job").at("config")
                                          : e.contains("done") && s.kind == Suggestion::Kind::kDone;
      if (!same) {
        throw std::runtime_error("decision " + std::to_string(applied_ + 1) + " of the study's log is " + entry +
                                 ", but this worker's controller decides " + entry_of(s) +
                                 " (workers of one study need the same config, seed and graybox)");
      }
      done_ = s.kind == Suggestion::Kind::kDone;
    }
    ++applied_;
  }
  std::string react(const core::WorkQueue::Job& job, const core::WorkQueue::Result& result) override {
    const nlohmann::json r = {{"trial", job.trial},
                              {"budget", job.budget},
                              {"config", nlohmann::json::parse(job.config)},
                              {"loss", encode_loss(result.loss)},
                              {"status", result.status},
                              {"steps", result.steps},
                              {"checkpoint", result.checkpoint},
                              {"finished", result.finished}};
    controller_->on_outcome(job_of(r), outcome_of(r));
    ++applied_;
    done_ = false;
    return nlohmann::json{{"result", r}}.dump();
  }
  std::string suggest(std::optional<core::WorkQueue::NewJob>& queue, bool& done) override {
    const Suggestion s = controller_->suggest();
    if (s.kind == Suggestion::Kind::kWait || (s.kind == Suggestion::Kind::kDone && done_)) {
      done = s.kind == Suggestion::Kind::kDone;
      return "";
    }
    if (s.kind == Suggestion::Kind::kJob) queue = core::WorkQueue::NewJob{s.job.trial, s.job.budget, values_to_json(s.job.config).dump()};
    done = done_ = s.kind == Suggestion::Kind::kDone;
    ++applied_;
    return entry_of(s);
  }
  void forget() override {
    controller_.reset();
    applied_ = 0;
    done_ = false;
  }
  std::string snapshot() const override {
    if (!controller_) return "";
    return nlohmann::json{{"controller", controller_->state()}, {"done", done_}}.dump();
  }
  bool resume_from(const std::string& snapshot, std::int64_t applied) override {
    const nlohmann::json s = nlohmann::json::parse(snapshot);
    controller_ = make_();
    controller_->load_state(s.at("controller"));
    applied_ = applied;
    done_ = s.at("done").get<bool>();
    return true;
  }

  // For controllers that continue trials from each other's states: where `job` starts, after
  // applying what the other workers appended to the log (a job claimed from the queue comes
  // without a decision of this worker's, so its controller may not know it yet).
  std::string name() const { return controller_ ? controller_->name() : std::string(); }
  std::unique_ptr<Controller> release() { return std::move(controller_); }

  std::optional<JobStart> start_of(const Job& job, core::WorkQueue& queue) {
    if (!controller_) start(queue.controller_state());
    if (!controller_->continues_trials()) return std::nullopt;
    for (const std::string& entry : queue.decisions(applied_)) apply(entry);
    const std::optional<JobStart> start = controller_->start_of(job);
    if (!start) {
      throw std::runtime_error("trial " + std::to_string(job.trial) + " budget " + std::to_string(job.budget) +
                               ": a job the study's controller did not decide");
    }
    return start;
  }

 private:
  static std::string entry_of(const Suggestion& s) {
    if (s.kind == Suggestion::Kind::kWait) return "a wait";
    if (s.kind == Suggestion::Kind::kDone) return nlohmann::json{{"done", true}}.dump();
    return nlohmann::json{{"job", {{"trial", s.job.trial}, {"budget", s.job.budget}, {"config", values_to_json(s.job.config)}}}}.dump();
  }

  ControllerMaker make_;
  std::unique_ptr<Controller> controller_;
  std::int64_t applied_ = 0;
  bool done_ = false;  // the last entry applied is a done
};

std::unique_ptr<Controller> replay_study(const StudyWorker::ControllerMaker& make_controller, core::WorkQueue& queue) {
  StudyWorker::Replay replay(make_controller);
  replay.start(queue.controller_state());
  for (const std::string& entry : queue.decisions()) replay.apply(entry);
  return replay.release();
}

StudyWorker::StudyWorker(const core::SearchSpace& space, const core::TrialFactory& factory, ControllerMaker make_controller,
                         core::WorkQueue& queue, QueueOpener open_heartbeat_queue, std::string dir, std::uint64_t seed,
                         std::int64_t max_units, WorkerOptions options)
    : space_(space),
      factory_(factory),
      queue_(queue),
      open_heartbeat_queue_(std::move(open_heartbeat_queue)),
      replay_(std::make_unique<Replay>(std::move(make_controller))),
      dir_(std::move(dir)),
      seed_(seed),
      max_units_(max_units),
      options_(std::move(options)) {}

StudyWorker::~StudyWorker() = default;

int StudyWorker::run(const std::function<bool()>& stop) {
  auto idle_since = core::Clock::now();
  std::optional<Finished> finished;
  for (;;) {
    // Counting the result in hand as committed; a refusal only means one more turn.
    const int counted = committed_ + (finished ? 1 : 0);
    const bool more = !(stop && stop()) && (options_.max_trials <= 0 || counted < options_.max_trials);
    if (!more && !finished) break;
    const auto turn_start = core::Clock::now();
    const core::WorkQueue::Turn turn = queue_.turn(finished, more, options_.name, options_.lease_seconds, *replay_);
    store_seconds_ += core::seconds_since(turn_start);
    ++store_calls_;
    if (finished) account(*finished, turn.accepted);
    finished.reset();
    if (turn.next) {
      finished = work(*turn.next, stop);
      idle_since = core::Clock::now();
      continue;
    }
    if (!more) continue;
    // Done: leave once no job is left that a dead worker's expired lease could hand back.
    if (turn.done) {
      const core::WorkQueue::Counts counts = queue_.counts();
      ++store_calls_;
      if (counts.running == 0 && counts.queued == 0) break;
    }
    if (options_.idle_exit > 0 && core::seconds_since(idle_since) > options_.idle_exit) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return committed_;
}

void StudyWorker::account(const Finished& finished, bool accepted) {
  const auto& [job, row] = finished;
  if (accepted) {
    ++committed_;
  } else {
    ++refused_;
    if (!row.checkpoint.empty()) fs::remove_all(dir_ + "/" + row.checkpoint);  // no committed job names it
  }
  if (!options_.quiet) {
    std::fprintf(stderr, "%s: trial %4lld budget %6lld attempt %d  %s %-12.6g %s\n", options_.name.c_str(),
                 static_cast<long long>(job.trial), static_cast<long long>(job.budget), job.attempt, factory_.metric().c_str(),
                 row.score, accepted ? row.status.c_str() : "refused (the job was taken over)");
  }
}

// PBT's interval, as its in-process runner trains one: a single call, to at most the largest
// budget; a score the task cannot give yet is "no score" (the member keeps its state), any other
// failure to score is a divergence.
void StudyWorker::train_interval(core::Trainable& trainable, std::int64_t units, const std::function<bool()>& stop,
                                 core::MetricSink& sink, TrialResult& result) const {
  if (stop && stop()) {
    result.status = kStopped;
    return;
  }
  const std::int64_t target = std::min(max_units_ * factory_.unit(), trainable.steps_done() + units * factory_.unit());
  if (trainable.steps_done() < target && !trainable.finished()) trainable.train(target - trainable.steps_done(), sink);
  double score = std::nan("");
  try {
    score = factory_.score(trainable);
  } catch (const core::NoScore& e) {
    record_failure(e, result);
    return;
  } catch (const std::exception&) {
  }
  set_score(factory_, score, result);
}

std::optional<StudyWorker::Finished> StudyWorker::work(const core::WorkQueue::Job& job, const std::function<bool()>& stop) {
  const auto started = core::Clock::now();
  Job as_job{static_cast<int>(job.trial), values_from_json(nlohmann::json::parse(job.config)), job.budget};

  // The lease, renewed on the heartbeat connection while the job trains.
  std::atomic<bool> lost{false};
  std::mutex mutex;
  std::condition_variable wake;
  bool finished = false;
  std::thread heartbeat([&] {
    try {
      std::unique_lock<std::mutex> lock(mutex);
      const auto period = std::chrono::duration<double>(options_.lease_seconds / 3.0);
      while (!wake.wait_for(lock, period, [&] { return finished; })) {
        lock.unlock();
        if (!heartbeat_queue_) heartbeat_queue_ = open_heartbeat_queue_();
        const bool held = heartbeat_queue_->renew(job, options_.lease_seconds);
        lock.lock();
        if (!held) {
          lost = true;
          return;
        }
      }
    } catch (const std::exception& e) {
      // The store is gone for longer than the reconnection allows: the lease cannot be held.
      if (!options_.quiet) std::fprintf(stderr, "%s: cannot renew the lease: %s\n", options_.name.c_str(), e.what());
      heartbeat_queue_.reset();
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
    const auto catch_up_start = core::Clock::now();
    const std::optional<JobStart> from = replay_->start_of(as_job, queue_);
    if (from) {
      store_seconds_ += core::seconds_since(catch_up_start);  // a round trip only for such controllers
      ++store_calls_;
    }
    trainable = factory_.make(space_.overrides(as_job.config), seed, max_units_);
    const std::string checkpoint = from ? from->checkpoint : job.checkpoint;
    if (!checkpoint.empty()) trainable->load(dir_ + "/" + checkpoint);
    if (from) {
      if (from->reseed != 0) trainable->reseed(from->reseed);
      set_hyperparameter_values(space_, factory_, as_job.config, replay_->name(), *trainable);
    }
    start = trainable->steps_done();
    if (from && from->interval > 0) {
      train_interval(*trainable, from->interval, [&] { return lost.load() || (stop && stop()); }, curve, result);
    } else {
      train_and_score(*trainable, factory_, job.budget, [&] { return lost.load() || (stop && stop()); }, curve, result);
    }
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
    if (!lost) {
      queue_.release(job);
      return std::nullopt;
    }
  }
  if (trainable) result.steps = std::max<std::int64_t>(0, trainable->steps_done() - start);
  result.seconds = core::seconds_since(started);
  work_seconds_ += result.seconds;
  return Finished{job, {result.loss, result.score, result.status, result.steps, result.seconds,
                        result.status == kStopped ? "" : relative, trainable && trainable->finished()}};
}

}  // namespace graybox::controllers
