#include "controllers/tune_runner.hpp"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "controllers/thread_allowance.hpp"
#include "core/buffer_sink.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/timing.hpp"

namespace fs = std::filesystem;

namespace graybox::controllers {
using core::seconds_since;

const char* const kStopped = "stopped";

void train_and_score(core::Trainable& trainable, const core::TrialFactory& factory, std::int64_t budget,
                     const std::function<bool()>& stop, core::MetricSink& sink, TrialResult& result) {
  // One budget unit at a time (to absolute unit boundaries, so whole updates end where one
  // call would end them), so that a stop request takes effect at the next unit boundary.
  const std::int64_t unit = factory.unit(), target = budget * unit;
  while (trainable.steps_done() < target && !trainable.finished()) {
    if (stop && stop()) {
      result.status = kStopped;
      return;
    }
    const std::int64_t next = std::min(target, (trainable.steps_done() / unit + 1) * unit);
    trainable.train(next - trainable.steps_done(), sink);
  }
  set_score(factory, factory.score(trainable), result);
}

void set_score(const core::TrialFactory& factory, double score, TrialResult& result) {
  result.score = score;
  if (!std::isfinite(result.score)) {
    result.status = "diverged";
    result.loss = INFINITY;
  } else {
    result.status = "ok";
    result.loss = factory.maximize() ? -result.score : result.score;
  }
}

void record_failure(const std::exception& e, TrialResult& result) {
  const bool no_score = dynamic_cast<const core::NoScore*>(&e) != nullptr;
  result.status = std::string(no_score ? "no score: " : "error: ") + e.what();
  result.score = std::nan("");
  result.loss = INFINITY;
}

TuneRunner::TuneRunner(Controller& controller, const core::TrialFactory& factory, core::Store& store,
                       std::string dir, std::uint64_t seed, std::int64_t max_units, int parallel)
    : controller_(controller),
      factory_(factory),
      store_(store),
      journal_(store, "tune", "controller_state"),
      dir_(std::move(dir)),
      seed_(seed),
      max_units_(max_units),
      parallel_(std::max(1, parallel)) {
  fs::create_directories(dir_ + "/trials");
}

std::uint64_t TuneRunner::trial_seed(int trial) const {
  return core::derive_seed(seed_, core::Stream::kTrial, static_cast<std::uint64_t>(trial));
}

std::string TuneRunner::trial_dir(int trial) const { return dir_ + "/trials/" + std::to_string(trial); }

bool TuneRunner::resume() {
  const nlohmann::json j = journal_.load();
  if (j.is_null()) return false;
  controller_.load_state(j.at("controller"));
  total_units_ = j.at("total_units").get<std::int64_t>();
  // States saved before steps were counted: their nominal steps.
  total_steps_ = j.value("total_steps", total_units_ * factory_.unit());
  history_.clear();
  reached_.clear();
  for (const auto& r : j.at("history")) {
    TrialResult t;
    t.trial = r.at("trial").get<int>();
    t.config = values_from_json(r.at("config"));
    t.budget = r.at("budget").get<std::int64_t>();
    t.score = r.at("score").is_null() ? std::nan("") : r.at("score").get<double>();
    t.loss = r.at("loss").is_null() ? INFINITY : r.at("loss").get<double>();
    t.status = r.at("status").get<std::string>();
    t.seconds = r.at("seconds").get<double>();
    t.steps = r.value("steps", std::int64_t{0});
    reached_[t.trial] = std::max(reached_[t.trial], t.budget);
    history_.push_back(t);
  }
  return true;
}

TrialResult TuneRunner::execute(const Job& job, core::MetricSink& sink) {
  const auto started = core::Clock::now();
  TrialResult result;
  result.trial = job.trial;
  result.config = job.config;
  result.budget = job.budget;
  std::unique_ptr<core::Trainable> trainable;
  std::int64_t start = 0;  // the trainable's steps before this job
  try {
    // The trial folder is replaced as a whole, so its lock lives beside it.
    const core::DirLock lock(dir_ + "/trials", std::to_string(job.trial) + ".lock");
    trainable = factory_.make(controller_.space().overrides(job.config), trial_seed(job.trial), max_units_);
    const std::string dir = trial_dir(job.trial);
    if (fs::exists(dir + "/done")) trainable->load(dir);
    // Counted from what the committed history already gave this trial: a kill between a
    // checkpoint's swap and its batch's commit leaves a checkpoint ahead of it, and a resumed
    // experiment must count the steps an uninterrupted one counts. (No checkpoint, e.g. after an
    // error: from the steps actually loaded.)
    std::int64_t committed = 0;
    for (const auto& h : history_) committed += h.trial == job.trial ? h.steps : 0;
    start = std::min(trainable->steps_done(), committed);
    train_and_score(*trainable, factory_, job.budget, stop_, sink, result);
    // Replace the trial's checkpoint: write beside it, then swap.
    const std::string tmp = dir + ".tmp";
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    trainable->save(tmp);
    std::ofstream(tmp + "/done") << job.budget << "\n";
    fs::remove_all(dir);
    fs::rename(tmp, dir);
  } catch (const std::exception& e) {
    record_failure(e, result);
  }
  if (trainable) result.steps = std::max<std::int64_t>(0, trainable->steps_done() - start);
  result.seconds = seconds_since(started);
  return result;
}

void TuneRunner::run(const std::function<bool(const std::vector<TrialResult>&)>& on_batch) {
  const ThreadAllowance threads(parallel_);  // outlives the arena
  tbb::task_arena arena(parallel_);
  for (;;) {
    std::vector<Job> batch;
    std::vector<std::string> decisions;
    const auto decide_start = core::Clock::now();
    bool done = false;
    while (static_cast<int>(batch.size()) < parallel_) {
      const Suggestion s = controller_.suggest();
      if (s.kind != Suggestion::Kind::kJob) {
        done = s.kind == Suggestion::Kind::kDone;
        break;
      }
      batch.push_back(s.job);
      decisions.push_back(controller_.last_decision());
    }
    controller_seconds_ += seconds_since(decide_start);
    if (batch.empty()) {
      if (done) return;
      throw std::logic_error("the controller is waiting on no running trial");
    }

    std::vector<TrialResult> results(batch.size());
    std::vector<core::BufferSink> curves(batch.size());
    arena.execute([&] {
      tbb::parallel_for(std::size_t{0}, batch.size(), [&](std::size_t i) { results[i] = execute(batch[i], curves[i]); },
                        tbb::simple_partitioner());
    });

    // Stopped mid-batch: keep every trial's checkpoint (saved above) and curve, report nothing;
    // the controller's committed state re-issues this batch on --resume, and each trial
    // continues from its checkpoint.
    if (std::any_of(results.begin(), results.end(), [](const TrialResult& r) { return r.status == kStopped; })) {
      for (std::size_t i = 0; i < batch.size(); ++i) curves[i].write_to(store_, batch[i].trial);
      store_.commit();
      stopped_ = true;
      return;
    }

    const auto report_start = core::Clock::now();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const TrialResult& r = results[i];
      controller_.on_result(batch[i], r.loss);
      const std::int64_t before = reached_.count(r.trial) ? reached_[r.trial] : 0;
      total_units_ += std::max<std::int64_t>(0, r.budget - before);
      total_steps_ += r.steps;
      reached_[r.trial] = std::max(before, r.budget);
      history_.push_back(r);
      curves[i].write_to(store_, r.trial);
      store_.add_event(r.trial, r.budget, "decision", decisions[i]);
      store_.add_metric(r.trial, r.budget, "tune/score", r.score);
      store_.add_metric(r.trial, r.budget, "tune/loss", r.loss);
      store_.upsert_trial({r.trial, controller_.space().to_json(r.config), r.budget, r.loss, r.score, r.status});
    }
    controller_seconds_ += seconds_since(report_start);
    nlohmann::json history = nlohmann::json::array();
    for (const auto& h : history_) {
      history.push_back({{"trial", h.trial}, {"config", values_to_json(h.config)}, {"budget", h.budget},
                         {"score", std::isfinite(h.score) ? nlohmann::json(h.score) : nlohmann::json()},
                         {"loss", std::isfinite(h.loss) ? nlohmann::json(h.loss) : nlohmann::json()},
                         {"status", h.status}, {"seconds", h.seconds}, {"steps", h.steps}});
    }
    // Only what changed since the last batch is written: its results, the controller's changes.
    journal_.record({{"controller", controller_.state()}, {"history", history}, {"total_units", total_units_},
                     {"total_steps", total_steps_}});
    store_.commit();
    if (on_batch && !on_batch(results)) return;
  }
}

const TrialResult* TuneRunner::best() const {
  std::int64_t top = 0;
  for (const auto& h : history_) top = std::max(top, h.budget);
  const TrialResult* best = nullptr;
  for (const auto& h : history_) {
    if (h.budget != top || !std::isfinite(h.loss)) continue;
    if (!best || h.loss < best->loss) best = &h;
  }
  return best;
}

}  // namespace graybox::controllers
