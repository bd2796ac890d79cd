// Every trial trains once, to the maximum budget; the searcher picks the configurations.
#include "controllers/schedulers.hpp"

namespace graybox::controllers {
namespace {

class FifoController final : public Controller {
 public:
  FifoController(const core::SearchSpace& space, std::unique_ptr<Searcher> searcher, std::uint64_t seed,
                 int num_trials, std::int64_t max_budget)
      : Controller(space, std::move(searcher), seed), num_trials_(num_trials), max_budget_(max_budget) {}

  std::string name() const override { return searcher_->name(); }

  Suggestion suggest() override {
    if (next_trial_ < num_trials_) {
      ++outstanding_;
      return Suggestion::run(new_trial(max_budget_));
    }
    return outstanding_ > 0 ? Suggestion::wait() : Suggestion::done();
  }

  void on_result(const Job& job, double loss) override {
    --outstanding_;
    record(job, loss);
  }

  nlohmann::json state() const override {
    nlohmann::json s = Controller::state();
    s["outstanding"] = outstanding_;
    return s;
  }
  void load_state(const nlohmann::json& s) override {
    Controller::load_state(s);
    outstanding_ = s.at("outstanding").get<int>();
  }

 private:
  int num_trials_;
  std::int64_t max_budget_;

 public:
  int planned_trials() const override { return num_trials_; }

 private:
  int outstanding_ = 0;
};

}  // namespace

std::unique_ptr<Controller> make_fifo_controller(const core::SearchSpace& space, std::unique_ptr<Searcher> searcher,
                                                 std::uint64_t seed, int num_trials, std::int64_t max_budget) {
  return std::make_unique<FifoController>(space, std::move(searcher), seed, num_trials, max_budget);
}

}  // namespace graybox::controllers
