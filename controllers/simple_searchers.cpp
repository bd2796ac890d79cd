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

nlohmann::json Searcher::state() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& o : observations_) {
    list.push_back({{"config", space_.encode(o.config)}, {"values", o.config.values}, {"budget", o.budget},
                    {"loss", o.loss}});
  }
  return {{"observations", list}};
}

void Searcher::load_state(const nlohmann::json& state) {
  observations_.clear();
  for (const auto& o : state.at("observations")) {
    Observation obs;
    for (const auto& v : o.at("values")) obs.config.values.push_back(v.is_null() ? std::nan("") : v.get<double>());
    obs.budget = o.at("budget").get<std::int64_t>();
    obs.loss = o.at("loss").is_null() ? std::numeric_limits<double>::infinity() : o.at("loss").get<double>();
    observations_.push_back(obs);
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
  if (options.kind == "tpe") return std::make_unique<TpeSearcher>(space, options.initial_points);
  if (options.kind == "bohb") return std::make_unique<BohbSearcher>(space);
  throw std::invalid_argument("unknown searcher '" + options.kind + "'");
}

}  // namespace graybox::controllers
