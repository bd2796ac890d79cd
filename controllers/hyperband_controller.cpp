// Hyperband: brackets of successive halving run one after the other; in a rung every trial
// trains to the rung's budget, then the best 1/eta continue (from their checkpoints) to the
// next rung. With BOHB's searcher, new configurations come from its per-budget model.
#include <algorithm>

#include "controllers/hyperband.hpp"
#include "controllers/schedulers.hpp"

namespace graybox::controllers {
namespace {

class HyperbandController final : public Controller {
 public:
  // Every bracket's first rung starts new configurations; promotions continue them.
  int planned_trials() const override {
    std::int64_t n = 0;
    for (const Bracket& bracket : brackets_) n += bracket.front().num_configs;
    return static_cast<int>(n * iterations_);
  }
  HyperbandController(const core::SearchSpace& space, std::unique_ptr<Searcher> searcher, std::uint64_t seed,
                      std::int64_t max_budget, std::int64_t min_budget, int eta, int iterations, bool sha)
      : Controller(space, std::move(searcher), seed), eta_(eta), iterations_(iterations), sha_(sha) {
    brackets_ = hyperband_brackets(max_budget, min_budget, eta);
    if (sha_) brackets_.resize(1);
  }

  std::string name() const override {
    return sha_ ? "sha" : (searcher_->name() == "bohb" ? "bohb" : "hyperband");
  }

  Suggestion suggest() override {
    for (;;) {
      if (iteration_ >= iterations_) return Suggestion::done();
      const Rung& rung = brackets_[bracket_][rung_];
      if (!pending_.empty()) {
        Job job = pending_.front();
        pending_.erase(pending_.begin());
        ++outstanding_;
        last_decision_ = "promote trial " + std::to_string(job.trial) + " to budget " + std::to_string(job.budget);
        return Suggestion::run(job);
      }
      if (rung_ == 0 && created_ < rung.num_configs) {
        ++created_;
        ++outstanding_;
        return Suggestion::run(new_trial(rung.budget));
      }
      if (outstanding_ > 0) return Suggestion::wait();
      advance();
    }
  }

  void on_result(const Job& job, double loss) override {
    --outstanding_;
    record(job, loss);
    results_.push_back({job, sanitize_loss(loss)});
  }

  nlohmann::json state() const override {
    nlohmann::json s = Controller::state();
    s["iteration"] = iteration_;
    s["bracket"] = bracket_;
    s["rung"] = rung_;
    s["created"] = created_;
    s["outstanding"] = outstanding_;
    nlohmann::json pending = nlohmann::json::array(), results = nlohmann::json::array();
    for (const auto& j : pending_) pending.push_back({{"trial", j.trial}, {"budget", j.budget}, {"config", values_to_json(j.config)}});
    for (const auto& r : results_) {
      results.push_back({{"trial", r.job.trial}, {"budget", r.job.budget}, {"config", values_to_json(r.job.config)}, {"loss", r.loss}});
    }
    s["pending"] = pending;
    s["results"] = results;
    return s;
  }

  void load_state(const nlohmann::json& s) override {
    Controller::load_state(s);
    iteration_ = s.at("iteration").get<int>();
    bracket_ = s.at("bracket").get<std::size_t>();
    rung_ = s.at("rung").get<std::size_t>();
    created_ = s.at("created").get<std::int64_t>();
    outstanding_ = s.at("outstanding").get<int>();
    pending_.clear();
    results_.clear();
    for (const auto& j : s.at("pending")) {
      pending_.push_back({j.at("trial").get<int>(), values_from_json(j.at("config")), j.at("budget").get<std::int64_t>()});
    }
    for (const auto& r : s.at("results")) {
      results_.push_back({{r.at("trial").get<int>(), values_from_json(r.at("config")), r.at("budget").get<std::int64_t>()},
                          r.at("loss").get<double>()});
    }
  }

 private:
  struct Result {
    Job job;
    double loss;
  };

  // The rung is complete: promote its best to the next rung, or start the next bracket.
  void advance() {
    const Bracket& bracket = brackets_[bracket_];
    if (rung_ + 1 < bracket.size()) {
      std::stable_sort(results_.begin(), results_.end(), [](const Result& a, const Result& b) { return a.loss < b.loss; });
      const std::size_t keep = std::min<std::size_t>(results_.size(), static_cast<std::size_t>(bracket[rung_ + 1].num_configs));
      ++rung_;
      for (std::size_t k = 0; k < keep; ++k) {
        Job job = results_[k].job;
        job.budget = bracket[rung_].budget;
        pending_.push_back(job);
      }
      std::sort(pending_.begin(), pending_.end(), [](const Job& a, const Job& b) { return a.trial < b.trial; });
    } else {
      rung_ = 0;
      created_ = 0;
      if (++bracket_ >= brackets_.size()) {
        bracket_ = 0;
        ++iteration_;
      }
    }
    results_.clear();
  }

  std::vector<Bracket> brackets_;
  int eta_;
  int iterations_;
  bool sha_;
  int iteration_ = 0;
  std::size_t bracket_ = 0, rung_ = 0;
  std::int64_t created_ = 0;
  int outstanding_ = 0;
  std::vector<Job> pending_;
  std::vector<Result> results_;
};

}  // namespace

std::unique_ptr<Controller> make_hyperband_controller(const core::SearchSpace& space,
                                                      std::unique_ptr<Searcher> searcher, std::uint64_t seed,
                                                      std::int64_t max_budget, std::int64_t min_budget, int eta,
                                                      int iterations, bool only_first_bracket) {
  return std::make_unique<HyperbandController>(space, std::move(searcher), seed, max_budget, min_budget, eta,
                                               iterations, only_first_bracket);
}

}  // namespace graybox::controllers
