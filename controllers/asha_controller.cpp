// ASHA (Li et al. 2020): rungs at grace * rf^k up to the maximum budget. Whenever a worker is
// free, the highest rung with a promotable trial promotes it (a trial is promotable when its
// loss is among the best floor(n / rf) of the n losses recorded at its rung so far); otherwise a
// new trial starts at the lowest rung, until num_trials have started.
#include <algorithm>

#include "controllers/schedulers.hpp"

namespace graybox::controllers {
namespace {

class AshaController final : public Controller {
 public:
  int planned_trials() const override { return num_trials_; }
  AshaController(const core::SearchSpace& space, std::unique_ptr<Searcher> searcher, std::uint64_t seed,
                 int num_trials, std::int64_t max_budget, std::int64_t grace, int rf)
      : Controller(space, std::move(searcher), seed), num_trials_(num_trials), rf_(rf) {
    for (std::int64_t b = std::max<std::int64_t>(1, grace); b < max_budget; b *= rf) budgets_.push_back(b);
    budgets_.push_back(max_budget);
    rungs_.resize(budgets_.size());
  }

  std::string name() const override { return "asha"; }

  Suggestion suggest() override {
    for (std::size_t k = rungs_.size() - 1; k-- > 0;) {
      auto& rung = rungs_[k];
      std::vector<double> losses;
      for (const auto& e : rung) losses.push_back(e.loss);
      std::sort(losses.begin(), losses.end());
      const std::size_t top = losses.size() / static_cast<std::size_t>(rf_);
      if (top == 0) continue;
      const double cutoff = losses[top - 1];
      for (auto& e : rung) {
        if (!e.promoted && e.loss <= cutoff) {
          e.promoted = true;
          ++outstanding_;
          Job job{e.trial, e.config, budgets_[k + 1]};
          last_decision_ = "promote trial " + std::to_string(e.trial) + " to budget " + std::to_string(job.budget);
          return Suggestion::run(job);
        }
      }
    }
    if (next_trial_ < num_trials_) {
      ++outstanding_;
      return Suggestion::run(new_trial(budgets_[0]));
    }
    return outstanding_ > 0 ? Suggestion::wait() : Suggestion::done();
  }

  void on_result(const Job& job, double loss) override {
    --outstanding_;
    record(job, loss);
    const auto k = static_cast<std::size_t>(std::find(budgets_.begin(), budgets_.end(), job.budget) - budgets_.begin());
    if (k < rungs_.size()) rungs_[k].push_back({job.trial, job.config, sanitize_loss(loss), false});
  }

  nlohmann::json state() const override {
    nlohmann::json s = Controller::state();
    s["outstanding"] = outstanding_;
    nlohmann::json rungs = nlohmann::json::array();
    for (const auto& rung : rungs_) {
      nlohmann::json entries = nlohmann::json::array();
      for (const auto& e : rung) {
        entries.push_back({{"trial", e.trial}, {"config", values_to_json(e.config)}, {"loss", e.loss}, {"promoted", e.promoted}});
      }
      rungs.push_back(entries);
    }
    s["rungs"] = rungs;
    return s;
  }

  void load_state(const nlohmann::json& s) override {
    Controller::load_state(s);
    outstanding_ = s.at("outstanding").get<int>();
    for (std::size_t k = 0; k < rungs_.size(); ++k) {
      rungs_[k].clear();
      for (const auto& e : s.at("rungs").at(k)) {
        rungs_[k].push_back({e.at("trial").get<int>(), values_from_json(e.at("config")), e.at("loss").get<double>(),
                             e.at("promoted").get<bool>()});
      }
    }
  }

  const std::vector<std::int64_t>& budgets() const { return budgets_; }

 private:
  struct Entry {
    int trial;
    core::Configuration config;
    double loss;
    bool promoted;
  };
  int num_trials_;
  int rf_;
  std::vector<std::int64_t> budgets_;
  std::vector<std::vector<Entry>> rungs_;
  int outstanding_ = 0;
};

}  // namespace

std::unique_ptr<Controller> make_asha_controller(const core::SearchSpace& space, std::unique_ptr<Searcher> searcher,
                                                 std::uint64_t seed, int num_trials, std::int64_t max_budget,
                                                 std::int64_t grace, int reduction_factor) {
  return std::make_unique<AshaController>(space, std::move(searcher), seed, num_trials, max_budget, grace,
                                          reduction_factor);
}

}  // namespace graybox::controllers
