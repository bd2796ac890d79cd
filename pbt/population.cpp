#include "pbt/population.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

using nlohmann::json;

namespace graybox::pbt {
json score_to_json(double v) { return std::isfinite(v) ? json(v) : json(); }
double score_from_json(const json& j) { return j.is_null() ? std::nan("") : j.get<double>(); }

Population::Population(const PbtOptions& options, const core::SearchSpace& space, const core::TrialFactory& factory,
                       std::uint64_t seed)
    : options_(options), space_(space), factory_(factory), seed_(seed), rng_(core::derive_seed(seed, core::Stream::kController)) {
  if (options_.population < 2) throw core::UserError("tune.population: PBT needs at least 2 members");
  if (options_.interval < 1) throw core::UserError("tune.perturbation_interval: must be at least 1 unit");
}

std::uint64_t Population::member_seed(int member) const {
  return core::derive_seed(seed_, core::Stream::kTrial, static_cast<std::uint64_t>(member));
}

std::uint64_t Population::exploit_seed(int member) const {
  std::uint64_t exploits = 0;
  for (const auto& event : lineage_) exploits += event.kind == "exploit" && event.member == member ? 1 : 0;
  return core::derive_seed(member_seed(member), core::Stream::kExploit, exploits);
}

double Population::loss_of(double score) const {
  if (!std::isfinite(score)) return std::nan("");
  return factory_.maximize() ? -score : score;
}

int Population::best() const {
  int best = -1;
  for (int i = 0; i < size(); ++i) {
    const double l = loss_of(members_[static_cast<std::size_t>(i)].score);
    if (!std::isnan(l) && (best < 0 || l < loss_of(members_[static_cast<std::size_t>(best)].score))) best = i;
  }
  return best;
}

bool Population::all_done() const {
  const std::int64_t end = options_.max_budget * factory_.unit();
  for (const auto& m : members_) {
    if (m.steps < end && !m.finished) return false;
  }
  return true;
}

std::set<std::string> Population::tuned_names() const {
  std::set<std::string> tuned;
  for (const auto& d : space_.dims()) tuned.insert(factory_.hyperparameter_name(d.name));
  return tuned;
}

core::Configuration Population::new_config(int member, const core::Configuration& from, double t, double gain) {
  core::Configuration next = explore(space_, from, options_.explore, rng_);
  if (options_.algorithm != "pb2") return next;
  // PB2 picks the numeric values; categoricals keep explore's choice.
  std::vector<Pb2Running> running;
  for (int i = 0; i < size(); ++i) {
    const MemberState& m = members_[static_cast<std::size_t>(i)];
    if (i == member || !std::isfinite(m.score)) continue;
    running.push_back({static_cast<double>(m.steps) / static_cast<double>(factory_.unit()),
                       factory_.maximize() ? m.score : -m.score, m.config});
  }
  std::vector<Pb2Point> recent(pb2_data_.end() - std::min<std::ptrdiff_t>(1000, static_cast<std::ptrdiff_t>(pb2_data_.size())),
                               pb2_data_.end());
  if (recent.size() < 2) return next;
  return pb2_suggest(space_, recent, running, t, gain, next, rng_);
}

void Population::start() {
  members_.clear();
  for (int i = 0; i < options_.population; ++i) {
    MemberState m;
    m.config = space_.sample(rng_);
    LineageEvent e;
    e.kind = "start";
    e.member = i;
    e.new_config = json::parse(space_.to_json(m.config));
    e.member_score = e.donor_score = std::nan("");
    lineage_.push_back(e);
    members_.push_back(std::move(m));
  }
}

void Population::record_interval(int member, std::int64_t steps, double score, bool unscored, bool finished,
                                 std::int64_t trained) {
  MemberState& m = members_.at(static_cast<std::size_t>(member));
  const std::int64_t unit = factory_.unit();
  m.score = std::isfinite(score) ? score : std::nan("");
  m.unscored = unscored;
  m.finished = finished;
  m.steps = steps;
  total_steps_ += trained;
  history_.push_back({member, steps, m.score, json::parse(space_.to_json(m.config))});
  const double units = static_cast<double>(trained) / static_cast<double>(unit);
  const double gain = factory_.maximize() ? m.score : -m.score;
  if (std::isfinite(gain) && std::isfinite(m.gain_before) && units > 0) {
    pb2_data_.push_back({static_cast<double>(steps) / static_cast<double>(unit), m.gain_before, m.config,
                         (gain - m.gain_before) / units});
    if (pb2_data_.size() > 1000) pb2_data_.erase(pb2_data_.begin());
  }
}

std::vector<std::size_t> Population::end_round(const std::vector<std::int64_t>& round_start_steps) {
  const std::int64_t unit = factory_.unit();
  std::vector<double> losses(members_.size(), std::nan(""));
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].steps >= options_.burn_in * unit) losses[i] = loss_of(members_[i].score);
  }
  std::vector<std::size_t> events;
  // Divergence: back to the last good state, then away from the values that diverged (also in
  // the last round: the member then trains that interval again).
  for (int i = 0; i < size(); ++i) {
    const MemberState& m = members_[static_cast<std::size_t>(i)];
    if (!std::isfinite(m.score) && !m.unscored) {
      rollback(i, round_start_steps.at(static_cast<std::size_t>(i)));
      events.push_back(lineage_.size() - 1);
    }
  }
  if (!all_done()) {
    for (const Exploit& x : select_exploits(losses, options_.quantile_fraction, rng_)) {
      exploit(x.member, x.donor, members_[static_cast<std::size_t>(x.donor)].steps);
      events.push_back(lineage_.size() - 1);
    }
  }
  for (auto& m : members_) {
    if (std::isfinite(m.score)) m.gain_before = factory_.maximize() ? m.score : -m.score;
  }
  return events;
}

LineageEvent& Population::exploit(int loser, int donor, std::int64_t copied_steps) {
  MemberState& l = members_.at(static_cast<std::size_t>(loser));
  const MemberState& d = members_.at(static_cast<std::size_t>(donor));
  LineageEvent e;
  e.kind = "exploit";
  e.member = loser;
  e.donor = donor;
  e.member_step = l.steps;
  e.member_score = l.score;
  e.donor_score = d.score;
  e.old_config = json::parse(space_.to_json(l.config));
  l.steps = copied_steps;
  l.finished = d.finished;
  e.donor_step = l.steps;
  l.score = d.score;
  l.gain_before = factory_.maximize() ? d.score : -d.score;
  l.config = new_config(loser, d.config, static_cast<double>(e.donor_step) / static_cast<double>(factory_.unit()), l.gain_before);
  e.new_config = json::parse(space_.to_json(l.config));
  lineage_.push_back(e);
  return lineage_.back();
}

LineageEvent& Population::rollback(int member, std::int64_t steps) {
  MemberState& m = members_.at(static_cast<std::size_t>(member));
  LineageEvent e;
  e.kind = "rollback";
  e.member = member;
  e.member_step = m.steps;
  m.steps = steps;
  m.finished = false;
  e.donor_step = m.steps;
  e.old_config = json::parse(space_.to_json(m.config));
  m.config = new_config(member, m.config, static_cast<double>(e.donor_step) / static_cast<double>(factory_.unit()), m.gain_before);
  e.new_config = json::parse(space_.to_json(m.config));
  e.member_score = e.donor_score = std::nan("");
  lineage_.push_back(e);
  m.gain_before = std::nan("");
  return lineage_.back();
}

json Population::state() const {
  json members = json::array();
  for (const auto& m : members_) {
    members.push_back({{"config", core::values_to_json(m.config)}, {"score", score_to_json(m.score)},
                       {"gain_before", score_to_json(m.gain_before)}, {"checkpoint", m.checkpoint}, {"steps", m.steps},
                       {"unscored", m.unscored}, {"finished", m.finished}});
  }
  json lineage = json::array();
  for (const auto& e : lineage_) lineage.push_back(e.to_json());
  json history = json::array();
  for (const auto& h : history_) history.push_back({h.member, h.step, score_to_json(h.score), h.config});
  json pb2 = json::array();
  for (const auto& p : pb2_data_) pb2.push_back({p.t, p.score_before, core::values_to_json(p.config), p.y});
  return {{"round", round_},     {"rng", rng_.state()}, {"total_units", total_steps_}, {"members", members},
          {"lineage", lineage}, {"history", history},  {"pb2", pb2}};
}

void Population::load_state(const json& state) {
  round_ = state.at("round").get<int>();
  rng_.set_state(state.at("rng").get<std::string>());
  total_steps_ = state.at("total_units").get<std::int64_t>();  // steps, under its first name
  lineage_.clear();
  for (const auto& e : state.at("lineage")) lineage_.push_back(LineageEvent::from_json(e));
  history_.clear();
  for (const auto& h : state.at("history")) history_.push_back({h[0].get<int>(), h[1].get<std::int64_t>(), score_from_json(h[2]), h[3]});
  pb2_data_.clear();
  for (const auto& p : state.at("pb2")) {
    pb2_data_.push_back({p[0].get<double>(), p[1].get<double>(), core::values_from_json(p[2]), p[3].get<double>()});
  }
  members_.clear();
  for (const auto& j : state.at("members")) {
    MemberState m;
    m.config = core::values_from_json(j.at("config"));
    m.score = score_from_json(j.at("score"));
    m.gain_before = score_from_json(j.at("gain_before"));
    m.checkpoint = j.at("checkpoint").get<std::string>();
    m.steps = j.at("steps").get<std::int64_t>();
    m.unscored = j.value("unscored", false);
    m.finished = j.value("finished", false);
    members_.push_back(std::move(m));
  }
}

std::vector<Segment> export_lineage(const std::string& dir, const Population& population, const core::TrialFactory& factory) {
  const int b = population.best();
  std::vector<Segment> chain;
  if (b >= 0) chain = ancestry(population.lineage(), b, population.member(b).steps);
  std::vector<MemberSummary> members;
  for (int i = 0; i < population.size(); ++i) {
    const MemberState& m = population.member(i);
    members.push_back({i, m.score, m.steps, json::parse(population.space().to_json(m.config))});
  }
  write_lineage_exports(dir, population.lineage(), members, b, chain, factory.metric(), factory.maximize(), population.tuned_names());
  return chain;
}

}  // namespace graybox::pbt
