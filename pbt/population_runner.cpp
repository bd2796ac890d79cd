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

#include "controllers/thread_allowance.hpp"
#include "core/buffer_sink.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/timing.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace graybox::pbt {
namespace {

using core::seconds_since;
using core::values_from_json;
using core::values_to_json;

json number(double v) { return std::isfinite(v) ? json(v) : json(); }
double number(const json& j) { return j.is_null() ? std::nan("") : j.get<double>(); }

}  // namespace

struct PopulationRunner::Member {
  int id = 0;
  core::Configuration config;
  std::unique_ptr<core::Trainable> trainable;
  std::unique_ptr<core::Trainable> snapshot;  // async: the state after its last good interval
  double score = std::nan("");                // the task's metric after the latest interval
  double gain_before = std::nan("");          // PB2: the gain at the start of the interval
  bool unscored = false;  // the latest interval left nothing to score it by (e.g. no episode ended)
  std::string checkpoint;                     // the last committed checkpoint, relative to the run directory
  // Trainable steps after its latest finished interval, exploit or rollback. Other members read
  // this, never the trainable itself, which another thread may be training (async mode).
  std::int64_t steps = 0;
  // The metrics its trainable reported in the interval in flight, until the runner's thread
  // hands them to the store (before the commit of that interval).
  core::BufferSink curve;
  std::unique_ptr<core::DirLock> lock;  // members/<i>/lock, held for the runner's life
};

PopulationRunner::PopulationRunner(const PbtOptions& options, const core::SearchSpace& space,
                                   const core::TrialFactory& factory, core::Store& store, std::string dir,
                                   std::uint64_t seed)
    : options_(options), space_(space), factory_(factory), store_(store), journal_(store, "pbt", "pbt_state"), dir_(std::move(dir)), seed_(seed),
      rng_(core::derive_seed(seed, core::Stream::kController)) {
  if (options_.population < 2) throw core::UserError("tune.population: PBT needs at least 2 members");
  if (options_.interval < 1) throw core::UserError("tune.perturbation_interval: must be at least 1 unit");
  options_.parallel = std::max(1, options_.parallel);
  fs::create_directories(dir_ + "/members");
}

PopulationRunner::~PopulationRunner() = default;

std::unique_ptr<core::DirLock> PopulationRunner::lock_member(int member) const {
  const std::string dir = dir_ + "/members/" + std::to_string(member);
  fs::create_directories(dir);
  return std::make_unique<core::DirLock>(dir);
}

std::uint64_t PopulationRunner::member_seed(int member) const {
  return core::derive_seed(seed_, core::Stream::kTrial, static_cast<std::uint64_t>(member));
}

const core::Configuration& PopulationRunner::config(int member) const { return members_.at(member)->config; }
double PopulationRunner::score(int member) const { return members_.at(member)->score; }
std::int64_t PopulationRunner::steps(int member) const { return members_.at(member)->steps; }

std::set<std::string> PopulationRunner::tuned_names() const {
  std::set<std::string> tuned;
  for (const auto& d : space_.dims()) tuned.insert(factory_.hyperparameter_name(d.name));
  return tuned;
}

double PopulationRunner::loss_of(double score) const {
  if (!std::isfinite(score)) return std::nan("");
  return factory_.maximize() ? -score : score;
}

int PopulationRunner::best() const {
  int best = -1;
  for (const auto& m : members_) {
    const double l = loss_of(m->score);
    if (!std::isnan(l) && (best < 0 || l < loss_of(members_[best]->score))) best = m->id;
  }
  return best;
}

// The member's configuration reaches its trainable as hyperparameters.
void PopulationRunner::apply_config(Member& m) {
  core::Hyperparameters hp = m.trainable->hyperparameters();
  for (std::size_t i = 0; i < space_.size(); ++i) {
    if (std::isnan(m.config.values[i])) continue;
    const auto& d = space_.dims()[i];
    const std::string name = factory_.hyperparameter_name(d.name);
    if (name.empty() || !hp.has(name)) {
      throw core::UserError("search_space." + d.name + ": not a hyperparameter that can change during training, so " +
                            options_.algorithm + " cannot tune it");
    }
    const std::string text = space_.text(m.config, i);
    double value = m.config.values[i];
    if (d.type == core::DimensionType::kCategorical || d.type == core::DimensionType::kFixed) {
      try {
        value = std::stod(text);
      } catch (const std::exception&) {
        if (text == "true" || text == "false") {
          value = text == "true" ? 1.0 : 0.0;
        } else {
          throw core::UserError("search_space." + d.name + ": the choice '" + text + "' is not a number");
        }
      }
    }
    hp.set(name, value);
  }
  m.trainable->set_hyperparameters(hp);
}

core::Configuration PopulationRunner::new_config(int member, const core::Configuration& from, double t, double gain) {
  core::Configuration next = explore(space_, from, options_.explore, rng_);
  if (options_.algorithm != "pb2") return next;
  // PB2 picks the numeric values; categoricals keep explore's choice.
  std::vector<Pb2Running> running;
  for (const auto& m : members_) {
    if (m->id == member || !std::isfinite(m->score)) continue;
    running.push_back({static_cast<double>(m->steps) / static_cast<double>(factory_.unit()),
                       factory_.maximize() ? m->score : -m->score, m->config});
  }
  std::vector<Pb2Point> recent(pb2_data_.end() - std::min<std::ptrdiff_t>(1000, static_cast<std::ptrdiff_t>(pb2_data_.size())),
                               pb2_data_.end());
  if (recent.size() < 2) return next;
  return pb2_suggest(space_, recent, running, t, gain, next, rng_);
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
  m.checkpoint = "members/" + std::to_string(m.id) + "/" + tag;
  const std::string dir = dir_ + "/" + m.checkpoint;
  fs::remove_all(dir);
  fs::create_directories(dir);
  m.trainable->save(dir);
}

void PopulationRunner::commit(const std::vector<std::string>& obsolete) {
  json members = json::array();
  for (const auto& m : members_) {
    members.push_back({{"config", values_to_json(m->config)}, {"score", number(m->score)},
                       {"gain_before", number(m->gain_before)}, {"checkpoint", m->checkpoint},
                       {"steps", m->steps}});
    const std::int64_t units = m->steps / factory_.unit();
    store_.upsert_trial({m->id, space_.to_json(m->config), units, std::isfinite(m->score) ? loss_of(m->score) : INFINITY,
                         m->score, std::isfinite(m->score) ? "ok" : m->unscored ? "no score" : "diverged"});
  }
  json lineage = json::array();
  for (const auto& e : lineage_) lineage.push_back(e.to_json());
  json history = json::array();
  for (const auto& h : history_) history.push_back({h.member, h.step, number(h.score), h.config});
  json pb2 = json::array();
  for (const auto& p : pb2_data_) pb2.push_back({p.t, p.score_before, values_to_json(p.config), p.y});
  const json state{{"round", round_},       {"rng", rng_.state()},          {"total_units", total_units_},
                   {"members", members},    {"lineage", lineage},           {"history", history},
                   {"pb2", pb2},            {"train_seconds", train_seconds_}, {"exploit_seconds", exploit_seconds_},
                   {"decision_seconds", decision_seconds_}, {"metric", factory_.metric()},
                   {"maximize", factory_.maximize()}, {"tuned", tuned_names()}};
  journal_.record(state);  // what changed since the last commit: new history rows, lineage events, members
  store_.commit();
  for (const auto& checkpoint : obsolete) fs::remove_all(dir_ + "/" + checkpoint);
}

bool PopulationRunner::resume() {
  const json state = journal_.load();
  if (state.is_null()) return false;
  round_ = state.at("round").get<int>();
  rng_.set_state(state.at("rng").get<std::string>());
  total_units_ = state.at("total_units").get<std::int64_t>();
  train_seconds_ = state.at("train_seconds").get<double>();
  exploit_seconds_ = state.at("exploit_seconds").get<double>();
  decision_seconds_ = state.at("decision_seconds").get<double>();
  lineage_.clear();
  for (const auto& e : state.at("lineage")) lineage_.push_back(LineageEvent::from_json(e));
  history_.clear();
  for (const auto& h : state.at("history")) {
    history_.push_back({h[0].get<int>(), h[1].get<std::int64_t>(), number(h[2]), h[3]});
  }
  pb2_data_.clear();
  for (const auto& p : state.at("pb2")) {
    pb2_data_.push_back({p[0].get<double>(), p[1].get<double>(), values_from_json(p[2]), p[3].get<double>()});
  }
  members_.clear();
  int id = 0;
  for (const auto& j : state.at("members")) {
    auto m = std::make_unique<Member>();
    m->id = id;
    m->lock = lock_member(id);
    m->config = values_from_json(j.at("config"));
    m->score = number(j.at("score"));
    m->gain_before = number(j.at("gain_before"));
    m->checkpoint = j.at("checkpoint").get<std::string>();
    // States written before checkpoints were stored relative hold "<run dir>/members/...".
    if (m->checkpoint.rfind(dir_ + "/", 0) == 0) m->checkpoint.erase(0, dir_.size() + 1);
    m->trainable = factory_.make(space_.overrides(m->config), member_seed(id), options_.max_budget);
    m->trainable->load(dir_ + "/" + m->checkpoint);
    m->steps = m->trainable->steps_done();
    apply_config(*m);
    members_.push_back(std::move(m));
    ++id;
  }
  return true;
}

void PopulationRunner::start() {
  for (int i = 0; i < options_.population; ++i) {
    auto m = std::make_unique<Member>();
    m->id = i;
    m->lock = lock_member(i);
    m->config = space_.sample(rng_);
    m->trainable = factory_.make(space_.overrides(m->config), member_seed(i), options_.max_budget);
    apply_config(*m);
    LineageEvent e;
    e.kind = "start";
    e.member = i;
    e.new_config = json::parse(space_.to_json(m->config));
    e.hyperparameters = m->trainable->hyperparameters().values();
    e.member_score = e.donor_score = std::nan("");
    store_.add_event(i, 0, "start", e.to_json().dump());
    for (const auto& [name, value] : e.hyperparameters) store_.add_hyperparameter(i, 0, name, value);
    lineage_.push_back(e);
    save_checkpoint(*m, "r0");
    members_.push_back(std::move(m));
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
  const std::int64_t unit = factory_.unit();
  const std::int64_t end = options_.max_budget * unit;
  const auto all_done = [&] {
    for (const auto& m : members_) {
      if (m->trainable->steps_done() < end && !m->trainable->finished()) return false;
    }
    return true;
  };
  while (!all_done()) {
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
    for (auto& m : members_) {
      m->score = scores[m->id];
      m->unscored = unscored[m->id] != 0;
      m->steps = m->trainable->steps_done();
    }
    ++round_;

    const auto decide_start = core::Clock::now();
    double copy_seconds = 0.0;
    std::vector<double> losses(members_.size(), std::nan(""));
    for (auto& m : members_) {
      const std::int64_t now = m->trainable->steps_done();
      const double trained = static_cast<double>(now - before[m->id]) / static_cast<double>(unit);
      total_units_ += now - before[m->id];
      const json config = json::parse(space_.to_json(m->config));
      history_.push_back({m->id, now, m->score, config});
      store_.set_metric(m->id, now, "pbt/score", m->score);  // a member that went back trains a step again
      m->curve.write_to(store_, m->id);
      const double gain = factory_.maximize() ? m->score : -m->score;
      if (std::isfinite(gain) && std::isfinite(m->gain_before) && trained > 0) {
        pb2_data_.push_back({static_cast<double>(now) / static_cast<double>(unit), m->gain_before, m->config,
                             (gain - m->gain_before) / trained});
        if (pb2_data_.size() > 1000) pb2_data_.erase(pb2_data_.begin());
      }
      if (now >= options_.burn_in * unit) losses[m->id] = loss_of(m->score);
    }
    // Divergence: back to the last good state, then away from the values that diverged (also
    // in the last round: the member then trains that interval again).
    for (auto& m : members_) {
      if (!std::isfinite(m->score) && !m->unscored) rollback(*m);
    }
    if (!all_done()) {
      for (const Exploit& x : select_exploits(losses, options_.quantile_fraction, rng_)) {
        copy_seconds += exploit(*members_[x.member], *members_[x.donor]);
      }
    }
    for (auto& m : members_) {
      if (std::isfinite(m->score)) m->gain_before = factory_.maximize() ? m->score : -m->score;
    }
    exploit_seconds_ += copy_seconds;
    decision_seconds_ += seconds_since(decide_start) - copy_seconds;

    std::vector<std::string> obsolete;
    for (auto& m : members_) {
      obsolete.push_back(m->checkpoint);
      save_checkpoint(*m, "r" + std::to_string(round_));
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

// The loser becomes a copy of the donor's offered state, draws from fresh streams of its own
// (derived from the experiment seed, the member and its exploit count, so the two do not replay
// the same noise), explores from the donor's values, and offers that copy from now on.
// Returns the seconds the in-memory copy took.
double PopulationRunner::exploit(Member& loser, const Member& donor) {
  const std::int64_t unit = factory_.unit();
  LineageEvent e;
  e.kind = "exploit";
  e.member = loser.id;
  e.donor = donor.id;
  e.member_step = loser.trainable->steps_done();
  e.member_score = loser.score;
  e.donor_score = donor.score;
  e.old_config = json::parse(space_.to_json(loser.config));
  std::uint64_t exploits = 1;
  for (const auto& event : lineage_) exploits += event.kind == "exploit" && event.member == loser.id ? 1 : 0;
  const auto copy_start = core::Clock::now();
  loser.trainable->copy_state_from(offered_state(donor));
  const double copy_seconds = seconds_since(copy_start);
  loser.trainable->reseed(core::derive_seed(member_seed(loser.id), core::Stream::kExploit, exploits));
  loser.steps = loser.trainable->steps_done();
  e.donor_step = loser.steps;
  loser.score = donor.score;
  loser.gain_before = factory_.maximize() ? donor.score : -donor.score;
  loser.config = new_config(loser.id, donor.config, static_cast<double>(e.donor_step) / static_cast<double>(unit),
                            loser.gain_before);
  apply_config(loser);
  if (loser.snapshot) loser.snapshot->copy_state_from(*loser.trainable);
  e.new_config = json::parse(space_.to_json(loser.config));
  e.hyperparameters = loser.trainable->hyperparameters().values();
  store_.add_event(loser.id, e.member_step, "exploit", e.to_json().dump());
  for (const auto& [name, value] : e.hyperparameters) store_.add_hyperparameter(loser.id, e.donor_step, name, value);
  lineage_.push_back(e);
  return copy_seconds;
}

// A member whose score turned non-finite goes back to its offered state (async) or its last
// committed checkpoint (sync) and explores away from the values that diverged.
void PopulationRunner::rollback(Member& m) {
  LineageEvent e;
  e.kind = "rollback";
  e.member = m.id;
  e.member_step = m.trainable->steps_done();
  if (m.snapshot) {
    m.trainable->copy_state_from(*m.snapshot);
  } else {
    m.trainable->load(dir_ + "/" + m.checkpoint);
  }
  m.steps = m.trainable->steps_done();
  e.donor_step = m.steps;
  e.old_config = json::parse(space_.to_json(m.config));
  m.config = new_config(m.id, m.config, static_cast<double>(e.donor_step) / static_cast<double>(factory_.unit()),
                        m.gain_before);
  apply_config(m);
  if (m.snapshot) m.snapshot->copy_state_from(*m.trainable);
  e.new_config = json::parse(space_.to_json(m.config));
  e.hyperparameters = m.trainable->hyperparameters().values();
  e.member_score = e.donor_score = std::nan("");
  store_.add_event(m.id, e.member_step, "rollback", e.to_json().dump());
  for (const auto& [name, value] : e.hyperparameters) store_.add_hyperparameter(m.id, e.donor_step, name, value);
  lineage_.push_back(e);
  m.gain_before = std::nan("");
}

// Async: called with mutex_ held after member m finished an interval.
int PopulationRunner::after_interval(Member& m, double trained_units) {
  int wait_for = -1;
  const std::int64_t unit = factory_.unit();
  const std::int64_t now = m.trainable->steps_done();
  total_units_ += static_cast<std::int64_t>(trained_units * static_cast<double>(unit));
  history_.push_back({m.id, now, m.score, json::parse(space_.to_json(m.config))});
  store_.set_metric(m.id, now, "pbt/score", m.score);  // a member rolled back trains a step again
  m.curve.write_to(store_, m.id);
  const double gain = factory_.maximize() ? m.score : -m.score;
  if (std::isfinite(gain) && std::isfinite(m.gain_before) && trained_units > 0) {
    pb2_data_.push_back({static_cast<double>(now) / static_cast<double>(unit), m.gain_before, m.config,
                         (gain - m.gain_before) / trained_units});
    if (pb2_data_.size() > 1000) pb2_data_.erase(pb2_data_.begin());
  }
  const bool done = now >= options_.max_budget * unit || m.trainable->finished();
  const auto decide_start = core::Clock::now();
  double copy_seconds = 0.0;
  if (!std::isfinite(m.score) && !m.unscored && !done) {
    rollback(m);
  } else if (std::isfinite(m.score)) {
    m.snapshot->copy_state_from(*m.trainable);
    m.gain_before = gain;
    std::vector<double> losses(members_.size(), std::nan(""));
    for (const auto& o : members_) {
      if (o->trainable && o->steps >= options_.burn_in * unit) losses[o->id] = loss_of(o->score);
    }
    if (!done && now >= options_.burn_in * unit) {
      // Never from a donor behind: the copy would move the member back in time to train steps
      // it has trained again (members copying each other back and forth kept runs going far
      // past population x max_budget). The member waits for that donor to catch up instead, so
      // every member's steps only grow and the cost is bounded as in synchronous mode.
      for (const Exploit& x : select_exploits(losses, options_.quantile_fraction, rng_)) {
        if (x.member != m.id) continue;
        if (members_[x.donor]->steps >= now) {
          copy_seconds += exploit(m, *members_[x.donor]);
        } else {
          wait_for = x.donor;
        }
      }
    }
  }
  exploit_seconds_ += copy_seconds;
  decision_seconds_ += seconds_since(decide_start) - copy_seconds;
  const std::string old = m.checkpoint;
  save_checkpoint(m, "s" + std::to_string(m.trainable->steps_done()) + "-" + std::to_string(history_.size()));
  commit({old});
  return wait_for;
}

// Async, mutex_ held: a member that waited for its donor to catch up copies it now.
void PopulationRunner::exploit_caught_up(Member& loser, const Member& donor) {
  const std::string old = loser.checkpoint;
  exploit_seconds_ += exploit(loser, donor);
  save_checkpoint(loser, "s" + std::to_string(loser.trainable->steps_done()) + "-" + std::to_string(history_.size()) + "c");
  commit({old});
}

void PopulationRunner::run_asynchronous(const std::function<bool()>& on_round) {
  const std::int64_t end = options_.max_budget * factory_.unit();
  for (auto& m : members_) {
    m->snapshot = factory_.make(space_.overrides(m->config), member_seed(m->id), options_.max_budget);
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
      const double trained = static_cast<double>(m.trainable->steps_done() - before) / static_cast<double>(factory_.unit());
      lock.lock();
      --training;
      m.score = score;
      m.unscored = unscored;
      m.steps = m.trainable->steps_done();
      train_seconds_ += seconds_since(t0);
      ++round_;  // before the commit in after_interval, so a resumed run counts the same
      const int wait_for = after_interval(m, trained);
      for (auto w = waiting.begin(); w != waiting.end();) {
        Member& loser = *members_[w->first];
        if (w->second == id && m.steps >= loser.steps) {
          // Copied only if the donor is still the better of the two at its new step.
          if (std::isfinite(m.score) && loss_of(m.score) < loss_of(loser.score)) exploit_caught_up(loser, m);
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

std::vector<Segment> PopulationRunner::export_lineage() const {
  const int b = best();
  std::vector<Segment> chain;
  if (b >= 0) chain = ancestry(lineage_, b, members_[b]->steps);
  std::vector<MemberSummary> members;
  for (const auto& m : members_) members.push_back({m->id, m->score, m->steps, json::parse(space_.to_json(m->config))});
  write_lineage_exports(dir_, lineage_, members, b, chain, factory_.metric(), factory_.maximize(), tuned_names());
  return chain;
}

}  // namespace graybox::pbt
