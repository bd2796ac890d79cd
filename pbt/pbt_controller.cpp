#include "pbt/pbt_controller.hpp"

#include <cmath>
#include <stdexcept>

#include "controllers/hyperparameter_values.hpp"
#include "core/error.hpp"

using nlohmann::json;

namespace graybox::pbt {

PbtController::PbtController(const PbtOptions& options, const core::SearchSpace& space, const core::TrialFactory& factory,
                             std::uint64_t seed)
    : controllers::Controller(space, nullptr, seed), factory_(factory), population_(options, space, factory, seed) {
  if (!options.synchronous) {
    throw core::UserError("tune.synchronous: false: asynchronous " + options.algorithm +
                          " depends on timing and runs in one process (without --storage); workers run synchronous rounds");
  }
  population_.start();
  for (int i = 0; i < population_.size(); ++i) {
    population_.lineage()[static_cast<std::size_t>(i)].hyperparameters =
        controllers::hyperparameter_values(space_, factory_, population_.member(i).config, name());
    MemberJob job;
    job.start.interval = options.interval;
    jobs_.push_back(job);
  }
}

controllers::Job PbtController::job_of(int member) const {
  const MemberJob& j = jobs_.at(static_cast<std::size_t>(member));
  const std::int64_t budget =
      std::min(population_.options().max_budget, j.start_steps / factory_.unit() + population_.options().interval);
  return controllers::Job{member, population_.member(member).config, budget};
}

controllers::Suggestion PbtController::suggest() {
  if (population_.all_done()) return controllers::Suggestion::done();
  for (int i = 0; i < population_.size(); ++i) {
    MemberJob& j = jobs_[static_cast<std::size_t>(i)];
    if (j.suggested) continue;
    j.suggested = true;
    const controllers::Job job = job_of(i);
    last_decision_ = "round " + std::to_string(population_.rounds() + 1) + ": member " + std::to_string(i) + " to budget " +
                     std::to_string(job.budget) + ": " + space_.to_json(job.config);
    return controllers::Suggestion::run(job);
  }
  return controllers::Suggestion::wait();  // the round's other members are still training
}

void PbtController::on_result(const controllers::Job&, double) {
  throw std::logic_error("PbtController: a member's result needs its steps and checkpoint (on_outcome)");
}

void PbtController::on_outcome(const controllers::Job& job, const controllers::JobOutcome& outcome) {
  MemberJob& j = jobs_.at(static_cast<std::size_t>(job.trial));
  if (!j.suggested || j.outcome) {
    throw std::logic_error("PbtController: a result for member " + std::to_string(job.trial) + " that has no job in this round");
  }
  if (outcome.status.rfind("error:", 0) == 0) {
    // In one process the same failure stops the run; here it would only be tried again.
    throw std::runtime_error("member " + std::to_string(job.trial) + " failed: " + outcome.status);
  }
  j.outcome = outcome;
  for (const MemberJob& other : jobs_) {
    if (!other.outcome) return;
  }
  end_round();
}

// Every member reported: the results in member order (as one process records them), then the
// population's decisions, and each member's next start.
void PbtController::end_round() {
  std::vector<std::int64_t> before;
  for (int i = 0; i < population_.size(); ++i) {
    const MemberJob& j = jobs_[static_cast<std::size_t>(i)];
    const controllers::JobOutcome& o = *j.outcome;
    const std::int64_t now = j.start_steps + o.steps;
    const bool scored = o.status == "ok" && std::isfinite(o.loss);
    const double score = scored ? (factory_.maximize() ? -o.loss : o.loss) : std::nan("");
    const bool unscored = o.status.rfind("no score", 0) == 0;
    population_.record_interval(i, now, score, unscored, o.finished, o.steps);
    population_.member(i).checkpoint = o.checkpoint;
    before.push_back(j.start_steps);
  }
  population_.count_round();
  std::vector<MemberJob> next(jobs_.size());
  for (int i = 0; i < population_.size(); ++i) {
    MemberJob& n = next[static_cast<std::size_t>(i)];
    n.start.checkpoint = jobs_[static_cast<std::size_t>(i)].outcome->checkpoint;
    n.start.interval = population_.options().interval;
    n.start_steps = population_.member(i).steps;
  }
  for (const std::size_t index : population_.end_round(before)) {
    LineageEvent& e = population_.lineage()[index];
    MemberJob& n = next[static_cast<std::size_t>(e.member)];
    if (e.kind == "rollback") {
      n = jobs_[static_cast<std::size_t>(e.member)];  // the state this round started from, again
      n.suggested = false;
      n.outcome.reset();
      population_.member(e.member).checkpoint = n.start.checkpoint;
    } else {
      n.start.checkpoint = jobs_[static_cast<std::size_t>(e.donor)].outcome->checkpoint;
      n.start.reseed = population_.exploit_seed(e.member);
      population_.member(e.member).checkpoint = n.start.checkpoint;
    }
    n.start_steps = population_.member(e.member).steps;
    e.checkpoint = n.start.checkpoint;
    e.hyperparameters = controllers::hyperparameter_values(space_, factory_, population_.member(e.member).config, name());
  }
  jobs_ = std::move(next);
}

std::optional<controllers::JobStart> PbtController::start_of(const controllers::Job& job) const {
  if (job.trial < 0 || job.trial >= population_.size()) return std::nullopt;
  const MemberJob& j = jobs_[static_cast<std::size_t>(job.trial)];
  const controllers::Job current = job_of(job.trial);
  if (!j.suggested || j.outcome || current.budget != job.budget || !(current.config == job.config)) return std::nullopt;
  return j.start;
}

json PbtController::state() const {
  json jobs = json::array();
  for (const MemberJob& j : jobs_) {
    json o;
    if (j.outcome) {
      o = {{"loss", score_to_json(j.outcome->loss)}, {"status", j.outcome->status}, {"steps", j.outcome->steps},
           {"checkpoint", j.outcome->checkpoint}, {"finished", j.outcome->finished}};
    }
    jobs.push_back({{"checkpoint", j.start.checkpoint}, {"reseed", std::to_string(j.start.reseed)},
                    {"interval", j.start.interval}, {"start_steps", j.start_steps}, {"suggested", j.suggested},
                    {"outcome", o}});
  }
  return {{"name", name()}, {"population", population_.state()}, {"jobs", jobs}};
}

void PbtController::load_state(const json& state) {
  if (state.at("name").get<std::string>() != name()) {
    throw std::runtime_error("the saved controller is '" + state.at("name").get<std::string>() + "', not '" + name() + "'");
  }
  population_.load_state(state.at("population"));
  jobs_.clear();
  for (const auto& j : state.at("jobs")) {
    MemberJob m;
    m.start.checkpoint = j.at("checkpoint").get<std::string>();
    m.start.reseed = std::stoull(j.at("reseed").get<std::string>());
    m.start.interval = j.at("interval").get<std::int64_t>();
    m.start_steps = j.at("start_steps").get<std::int64_t>();
    m.suggested = j.at("suggested").get<bool>();
    const json& o = j.at("outcome");
    if (!o.is_null()) {
      m.outcome = controllers::JobOutcome{score_from_json(o.at("loss")), o.at("status").get<std::string>(), o.at("steps").get<std::int64_t>(),
                                          o.at("checkpoint").get<std::string>(), o.at("finished").get<bool>()};
    }
    jobs_.push_back(std::move(m));
  }
}

}  // namespace graybox::pbt
