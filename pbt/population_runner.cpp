#include "pbt/population_runner.hpp"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "controllers/hyperparameter_values.hpp"
#include "controllers/thread_allowance.hpp"
#include "core/buffer_sink.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/timing.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace graybox::pbt {
using core::seconds_since;

struct PopulationRunner::Member {
  int id = 0;
  std::unique_ptr<core::Trainable> trainable;
  std::unique_ptr<core::Trainable> snapshot;  // async: the state after its last good interval
  // The metrics its trainable reported in the interval in flight, until the runner's thread
  // hands them to the store (before the commit of that interval).
  core::BufferSink curve;
  std::unique_ptr<core::DirLock> lock;  // members/<i>/lock, held for the runner's life
};

PopulationRunner::PopulationRunner(const PbtOptions& options, const core::SearchSpace& space,
                                   const core::TrialFactory& factory, core::Store& store, std::string dir,
                                   std::uint64_t seed)
    : options_(options), space_(space), factory_(factory), store_(store), journal_(store, "pbt", "pbt_state"), dir_(std::move(dir)),
      population_(options, space, factory, seed) {
  options_.parallel = std::max(1, options_.parallel);
  fs::create_directories(dir_ + "/members");
}

PopulationRunner::~PopulationRunner() = default;

std::unique_ptr<core::DirLock> PopulationRunner::lock_member(int member) const {
  const std::string dir = dir_ + "/members/" + std::to_string(member);
  fs::create_directories(dir);
  return std::make_unique<core::DirLock>(dir);
}

MemberState& PopulationRunner::record(const Member& m) { return population_.member(m.id); }
const MemberState& PopulationRunner::record(const Member& m) const { return population_.member(m.id); }
std::uint64_t PopulationRunner::member_seed(int member) const { return population_.member_seed(member); }
const core::Configuration& PopulationRunner::config(int member) const { return population_.member(member).config; }
double PopulationRunner::score(int member) const { return population_.member(member).score; }
std::int64_t PopulationRunner::steps(int member) const { return population_.member(member).steps; }
int PopulationRunner::best() const { return population_.best(); }

// The member's configuration reaches its trainable as hyperparameters.
void PopulationRunner::apply_config(Member& m) {
  controllers::set_hyperparameter_values(space_, factory_, record(m).config, options_.algorithm, *m.trainable);
}

double PopulationRunner::train_member(Member& m, std::int64_t units, bool& unscored) {
  const std::int64_t target = std::min(options_.max_budget * factory_.unit(), m.trainable->steps_done() + units * factory_.unit());
  if (m.trainable->steps_done() < target && !m.trainable->finished()) {
    m.trainable->train(target - m.trainable->steps_done(), m.curve);
  }
  double s = std::nan("");
  unscored = false;
  try {
    s = factory_.score(*m.trainable);
  } catch (const core::NoScore&) {
    unscored = true;  // nothing to rank it by yet: it keeps training, neither copied nor rolled back
  } catch (const std::exception&) {
  }
  return std::isfinite(s) ? s : std::nan("");
}

void PopulationRunner::save_checkpoint(Member& m, const std::string& tag) {
  record(m).checkpoint = "members/" + std::to_string(m.id) + "/" + tag;
  const std::string dir = dir_ + "/" + record(m).checkpoint;
  fs::remove_all(dir);
  fs::create_directories(dir);
  m.trainable->save(dir);
}

void PopulationRunner::commit(const std::vector<std::string>& obsolete) {
  for (const auto& m : members_) {
    const MemberState& r = record(*m);
    const std::int64_t units = r.steps / factory_.unit();
    store_.upsert_trial({m->id, space_.to_json(r.config), units, std::isfinite(r.score) ? population_.loss_of(r.score) : INFINITY,
                         r.score, std::isfinite(r.score) ? "ok" : r.unscored ? "no score" : "diverged"});
  }
  json state = population_.state();
  state["train_seconds"] = train_seconds_;
  state["exploit_seconds"] = exploit_seconds_;
  state["decision_seconds"] = decision_seconds_;
  state["metric"] = factory_.metric();
  state["maximize"] = factory_.maximize();
  state["tuned"] = population_.tuned_names();
  journal_.record(state);  // what changed since the last commit: new history rows, lineage events, members
  store_.commit();
  for (const auto& checkpoint : obsolete) fs::remove_all(dir_ + "/" + checkpoint);
}

bool PopulationRunner::resume() {
  const json state = journal_.load();
  if (state.is_null()) return false;
  population_.load_state(state);
  train_seconds_ = state.at("train_seconds").get<double>();
  exploit_seconds_ = state.at("exploit_seconds").get<double>();
  decision_seconds_ = state.at("decision_seconds").get<double>();
  members_.clear();
  for (int id = 0; id < population_.size(); ++id) {
    auto m = std::make_unique<Member>();
    m->id = id;
    m->lock = lock_member(id);
    MemberState& r = population_.member(id);
    // States written before checkpoints were stored relative hold "<run dir>/members/...".
    if (r.checkpoint.rfind(dir_ + "/", 0) == 0) r.checkpoint.erase(0, dir_.size() + 1);
    m->trainable = factory_.make(space_.overrides(r.config), member_seed(id), options_.max_budget);
    m->trainable->load(dir_ + "/" + r.checkpoint);
    r.steps = m->trainable->steps_done();
    r.finished = m->trainable->finished();
    members_.push_back(std::move(m));
    apply_config(*members_.back());
  }
  return true;
}

void PopulationRunner::start() {
  population_.start();
  for (int i = 0; i < population_.size(); ++i) {
    auto m = std::make_unique<Member>();
    m->id = i;
    m->lock = lock_member(i);
    m->trainable = factory_.make(space_.overrides(population_.member(i).config), member_seed(i), options_.max_budget);
    members_.push_back(std::move(m));
    Member& member = *members_.back();
    record_event(member, population_.lineage()[static_cast<std::size_t>(i)]);
    save_checkpoint(member, "r0");
  }
  commit({});
}

void PopulationRunner::run(const std::function<bool()>& on_round) {
  if (members_.empty()) start();
  if (options_.synchronous) {
    run_synchronous(on_round);
  } else {
    run_asynchronous(on_round);
  }
}

void PopulationRunner::run_synchronous(const std::function<bool()>& on_round) {
  const controllers::ThreadAllowance threads(options_.parallel);  // outlives the arena
  tbb::task_arena arena(options_.parallel);
  while (!population_.all_done()) {
    std::vector<std::int64_t> before(members_.size());
    for (std::size_t i = 0; i < members_.size(); ++i) before[i] = members_[i]->trainable->steps_done();
    const auto train_start = core::Clock::now();
    std::vector<double> scores(members_.size());
    std::vector<char> unscored(members_.size(), 0);
    arena.execute([&] {
      tbb::parallel_for(std::size_t{0}, members_.size(),
                        [&](std::size_t i) {
                          bool none = false;
                          scores[i] = train_member(*members_[i], options_.interval, none);
                          unscored[i] = none ? 1 : 0;
                        },
                        tbb::simple_partitioner());
    });
    train_seconds_ += seconds_since(train_start);
    population_.count_round();

    const auto decide_start = core::Clock::now();
    for (auto& m : members_) {
      const std::int64_t now = m->trainable->steps_done();
      population_.record_interval(m->id, now, scores[static_cast<std::size_t>(m->id)], unscored[static_cast<std::size_t>(m->id)] != 0,
                                  m->trainable->finished(), now - before[static_cast<std::size_t>(m->id)]);
      store_.set_metric(m->id, now, "pbt/score", record(*m).score);  // a member that went back trains a step again
      m->curve.write_to(store_, m->id);
    }
    double copy_seconds = 0.0;
    for (const std::size_t index : population_.end_round(before)) {
      LineageEvent& e = population_.lineage()[index];
      Member& m = *members_[static_cast<std::size_t>(e.member)];
      if (e.kind == "rollback") {
        m.trainable->load(dir_ + "/" + record(m).checkpoint);
      } else {
        const auto copy_start = core::Clock::now();
        copy_donor(m, *members_[static_cast<std::size_t>(e.donor)]);
        copy_seconds += seconds_since(copy_start);
      }
      record_event(m, e);
    }
    exploit_seconds_ += copy_seconds;
    decision_seconds_ += seconds_since(decide_start) - copy_seconds;

    std::vector<std::string> obsolete;
    for (auto& m : members_) {
      obsolete.push_back(record(*m).checkpoint);
      save_checkpoint(*m, "r" + std::to_string(population_.rounds()));
    }
    commit(obsolete);
    if (on_round && !on_round()) return;
  }
}

// The state a member offers as a donor: after its last finished interval, exploit or rollback.
// Async: the snapshot, since the member's own trainable may be training on another thread.
const core::Trainable& PopulationRunner::offered_state(const Member& m) const {
  return m.snapshot ? *m.snapshot : *m.trainable;
}

// The loser becomes a copy of the donor's offered state and draws from fresh streams of its own
// (derived from the experiment seed, the member and its exploit count, so the two do not replay
// the same noise). Called after the population's exploit event.
void PopulationRunner::copy_donor(Member& loser, const Member& donor) {
  loser.trainable->copy_state_from(offered_state(donor));
  loser.trainable->reseed(population_.exploit_seed(loser.id));
}

// After an event of the population: the member's values reach its trainable (which offers that
// state from now on), and the event with the trainable's hyperparameters goes to the store.
void PopulationRunner::record_event(Member& m, LineageEvent& e) {
  apply_config(m);
  if (m.snapshot) m.snapshot->copy_state_from(*m.trainable);
  e.hyperparameters = m.trainable->hyperparameters().values();
  store_.add_event(m.id, e.member_step, e.kind, e.to_json().dump());
  for (const auto& [name, value] : e.hyperparameters) store_.add_hyperparameter(m.id, e.donor_step, name, value);
}

// Async: the loser copies the donor's offered state now. Returns the seconds the in-memory copy took.
double PopulationRunner::exploit(Member& loser, const Member& donor) {
  LineageEvent& e = population_.exploit(loser.id, donor.id, offered_state(donor).steps_done());
  const auto copy_start = core::Clock::now();
  copy_donor(loser, donor);
  const double copy_seconds = seconds_since(copy_start);
  record_event(loser, e);
  return copy_seconds;
}

// Async: a member whose score turned non-finite goes back to its offered state and explores away
// from the values that diverged.
void PopulationRunner::rollback(Member& m) {
  m.trainable->copy_state_from(*m.snapshot);
  record_event(m, population_.rollback(m.id, m.trainable->steps_done()));
}

// Async: called with mutex_ held after member m finished an interval.
int PopulationRunner::after_interval(Member& m) {
  int wait_for = -1;
  const std::int64_t unit = factory_.unit();
  const std::int64_t now = m.trainable->steps_done();
  MemberState& r = record(m);
  store_.set_metric(m.id, now, "pbt/score", r.score);  // a member rolled back trains a step again
  m.curve.write_to(store_, m.id);
  const bool done = now >= options_.max_budget * unit || m.trainable->finished();
  const auto decide_start = core::Clock::now();
  double copy_seconds = 0.0;
  if (!std::isfinite(r.score) && !r.unscored && !done) {
    rollback(m);
  } else if (std::isfinite(r.score)) {
    m.snapshot->copy_state_from(*m.trainable);
    r.gain_before = factory_.maximize() ? r.score : -r.score;
    std::vector<double> losses(members_.size(), std::nan(""));
    for (const auto& o : members_) {
      const MemberState& other = record(*o);
      if (other.steps >= options_.burn_in * unit) losses[static_cast<std::size_t>(o->id)] = population_.loss_of(other.score);
    }
    if (!done && now >= options_.burn_in * unit) {
      // Never from a donor behind: the copy would move the member back in time to train steps
      // it has trained again (members copying each other back and forth kept runs going far
      // past population x max_budget). The member waits for that donor to catch up instead, so
      // every member's steps only grow and the cost is bounded as in synchronous mode.
      for (const Exploit& x : select_exploits(losses, options_.quantile_fraction, population_.rng())) {
        if (x.member != m.id) continue;
        if (population_.member(x.donor).steps >= now) {
          copy_seconds += exploit(m, *members_[static_cast<std::size_t>(x.donor)]);
        } else {
          wait_for = x.donor;
        }
      }
    }
  }
  exploit_seconds_ += copy_seconds;
  decision_seconds_ += seconds_since(decide_start) - copy_seconds;
  const std::string old = r.checkpoint;
  save_checkpoint(m, "s" + std::to_string(m.trainable->steps_done()) + "-" + std::to_string(population_.history().size()));
  commit({old});
  return wait_for;
}

// Async, mutex_ held: a member that waited for its donor to catch up copies it now.
void PopulationRunner::exploit_caught_up(Member& loser, const Member& donor) {
  const std::string old = record(loser).checkpoint;
  exploit_seconds_ += exploit(loser, donor);
  save_checkpoint(loser, "s" + std::to_string(loser.trainable->steps_done()) + "-" + std::to_string(population_.history().size()) + "c");
  commit({old});
}

void PopulationRunner::run_asynchronous(const std::function<bool()>& on_round) {
  const std::int64_t end = options_.max_budget * factory_.unit();
  for (auto& m : members_) {
    m->snapshot = factory_.make(space_.overrides(record(*m).config), member_seed(m->id), options_.max_budget);
    m->snapshot->copy_state_from(*m->trainable);
  }
  // A FIFO of the members ready for their next interval, served by `parallel` worker loops, so
  // that more members than threads take turns in the order they finished (one task per interval
  // would let TBB's last-in-first-out deques run one member to its end before the others start).
  std::deque<int> ready;
  for (auto& m : members_) {
    if (m->trainable->steps_done() < end && !m->trainable->finished()) ready.push_back(m->id);
  }
  std::vector<std::pair<int, int>> waiting;  // (member, the donor behind it that it waits for)
  int training = 0;  // members in an interval now
  bool stop = false;
  std::condition_variable wake;
  const auto worker = [&] {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake.wait(lock, [&] { return stop || !ready.empty() || training == 0; });
      if (!stop && ready.empty() && !waiting.empty()) {
        // Nobody left who could catch up (their donors ended early): they train on uncopied.
        for (const auto& w : waiting) ready.push_back(w.first);
        waiting.clear();
      }
      if (stop || ready.empty()) break;  // nothing ready and nobody training: the run is over
      const int id = ready.front();
      ready.pop_front();
      ++training;
      Member& m = *members_[id];
      lock.unlock();
      const std::int64_t before = m.trainable->steps_done();
      const auto t0 = core::Clock::now();
      bool unscored = false;
      const double score = train_member(m, options_.interval, unscored);
      const std::int64_t trained = m.trainable->steps_done() - before;
      lock.lock();
      --training;
      population_.record_interval(id, m.trainable->steps_done(), score, unscored, m.trainable->finished(), trained);
      train_seconds_ += seconds_since(t0);
      population_.count_round();  // before the commit in after_interval, so a resumed run counts the same
      const int wait_for = after_interval(m);
      for (auto w = waiting.begin(); w != waiting.end();) {
        Member& loser = *members_[w->first];
        const MemberState& donor = record(m);
        if (w->second == id && donor.steps >= record(loser).steps) {
          // Copied only if the donor is still the better of the two at its new step.
          if (std::isfinite(donor.score) && population_.loss_of(donor.score) < population_.loss_of(record(loser).score)) {
            exploit_caught_up(loser, m);
          }
          // A copy of a donor that has finished has nothing left to train.
          if (loser.trainable->steps_done() < end && !loser.trainable->finished()) ready.push_back(loser.id);
          w = waiting.erase(w);
        } else {
          ++w;
        }
      }
      if (on_round && !on_round()) stop = true;
      if (!stop && m.trainable->steps_done() < end && !m.trainable->finished()) {
        if (wait_for >= 0) {
          waiting.emplace_back(id, wait_for);
        } else {
          ready.push_back(id);
        }
      }
      wake.notify_all();
    }
    wake.notify_all();
  };
  const controllers::ThreadAllowance threads(options_.parallel);  // outlives the arena
  tbb::task_arena arena(options_.parallel);
  tbb::task_group group;
  arena.execute([&] {
    for (int k = 0; k < std::min(options_.parallel, size()); ++k) group.run(worker);
    group.wait();
  });
}

std::vector<Segment> PopulationRunner::export_lineage() const { return pbt::export_lineage(dir_, population_, factory_); }

}  // namespace graybox::pbt
