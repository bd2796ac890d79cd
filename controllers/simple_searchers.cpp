// Random search, grid search, the shared searcher state and the searcher factory.
#include <cmath>
#include <limits>
#include <stdexcept>

#include "controllers/bohb_searcher.hpp"
#include "controllers/gp_searcher.hpp"
#include "controllers/searcher.hpp"
#include "controllers/tpe_searcher.hpp"

namespace graybox::controllers {

double sanitize_loss(double loss) {
  return std::isfinite(loss) ? loss : std::numeric_limits<double>::max() / 4;
}

void Searcher::observe(const Observation& observation) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->budget == observation.budget && it->config == observation.config) {
      pending_.erase(it);
      break;
    }
  }
  observations_.push_back(observation);
}

void Searcher::add_pending(const core::Configuration& config, std::int64_t budget) {
  pending_.push_back({config, budget, 0.0});
}

nlohmann::json Searcher::state() const {
  nlohmann::json list = nlohmann::json::array(), pending = nlohmann::json::array();
  for (const auto& o : observations_) {
    list.push_back({{"config", space_.encode(o.config)}, {"values", core::values_to_json(o.config)}, {"budget", o.budget},
                    {"loss", o.loss}});
  }
  for (const auto& p : pending_) pending.push_back({{"values", core::values_to_json(p.config)}, {"budget", p.budget}});
  return {{"observations", list}, {"pending", pending}};
}

void Searcher::load_state(const nlohmann::json& state) {
  observations_.clear();
  pending_.clear();
  for (const auto& o : state.at("observations")) {
    const double loss = o.at("loss").is_null() ? std::numeric_limits<double>::infinity() : o.at("loss").get<double>();
    observations_.push_back({core::values_from_json(o.at("values")), o.at("budget").get<std::int64_t>(), loss});
  }
  if (state.contains("pending")) {  // states saved before pending proposals were kept have none
    for (const auto& p : state.at("pending")) pending_.push_back({core::values_from_json(p.at("values")), p.at("budget").get<std::int64_t>(), 0.0});
  }
}

namespace {

class RandomSearcher final : public Searcher {
 public:
  using Searcher::Searcher;
  std::string name() const override { return "random"; }
  core::Configuration propose(core::Rng& rng, std::int64_t) override { return space_.sample(rng); }
};

class GridSearcher final : public Searcher {
 public:
  GridSearcher(const core::SearchSpace& space, int points) : Searcher(space), grid_(space.grid(points)) {}
  std::string name() const override { return "grid"; }
  core::Configuration propose(core::Rng&, std::int64_t) override {
    if (next_ >= grid_.size()) throw std::logic_error("grid search has no configurations left");
    return grid_[next_++];
  }
  std::size_t capacity() const override { return grid_.size(); }
  nlohmann::json state() const override {
    nlohmann::json s = Searcher::state();
    s["next"] = next_;
    return s;
  }
  void load_state(const nlohmann::json& state) override {
    Searcher::load_state(state);
    next_ = state.at("next").get<std::size_t>();
  }

 private:
  std::vector<core::Configuration> grid_;
  std::size_t next_ = 0;
};

}  // namespace

std::unique_ptr<Searcher> make_searcher(const SearcherOptions& options, const core::SearchSpace& space) {
  if (options.kind == "random") return std::make_unique<RandomSearcher>(space);
  if (options.kind == "grid") return std::make_unique<GridSearcher>(space, options.grid_points);
  if (options.kind == "gp") return std::make_unique<GpSearcher>(space, options.initial_points);
  if (options.kind == "tpe") return std::make_unique<TpeSearcher>(space, options.initial_points, options.tpe_multivariate);
  if (options.kind == "bohb") return std::make_unique<BohbSearcher>(space);
  throw std::invalid_argument("unknown searcher '" + options.kind + "'");
}

}  // namespace graybox::controllers
