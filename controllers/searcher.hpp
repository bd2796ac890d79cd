// Searcher: proposes configurations and learns from their results. Schedulers (Hyperband,
// ASHA, ...) decide budgets and which trials continue; a searcher only says what to try next.
// Losses are minimised (a controller negates scores that are maximised); a crashed or diverged
// trial reports +inf and counts as the worst loss.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/search_space.hpp"

namespace graybox::controllers {

struct Observation {
  core::Configuration config;
  std::int64_t budget = 0;
  double loss = 0.0;
};

class Searcher {
 public:
  explicit Searcher(const core::SearchSpace& space) : space_(space) {}
  virtual ~Searcher() = default;
  virtual std::string name() const = 0;
  // A configuration to try at `budget` (model-based searchers may use the budget's model).
  virtual core::Configuration propose(core::Rng& rng, std::int64_t budget) = 0;
  // A finished trial's result; it is no longer pending.
  void observe(const Observation& observation);
  // A proposal now training (parallel > 1): model-based searchers count it as a constant liar
  // until its result arrives, so a batch does not propose the same point again.
  void add_pending(const core::Configuration& config, std::int64_t budget);
  const std::vector<Observation>& pending() const { return pending_; }
  // How many configurations this searcher can propose (0: unlimited). Grid search is finite.
  virtual std::size_t capacity() const { return 0; }

  // State for resume: the observations and pending proposals (a searcher's model is a
  // function of them) and, for
  // searchers that keep more (e.g. a grid position), their own fields.
  virtual nlohmann::json state() const;
  virtual void load_state(const nlohmann::json& state);
  const std::vector<Observation>& observations() const { return observations_; }

 protected:
  const core::SearchSpace& space_;
  std::vector<Observation> observations_;
  std::vector<Observation> pending_;  // loss unused
};

struct SearcherOptions {
  std::string kind = "random";  // random, grid, gp, tpe, bohb
  int grid_points = 5;          // grid: values per numeric dimension
  int initial_points = 0;       // gp/tpe: random start-up trials (0: the method's default)
  bool tpe_multivariate = true;  // tpe: model the dimensions active in every trial jointly
};

std::unique_ptr<Searcher> make_searcher(const SearcherOptions& options, const core::SearchSpace& space);

// A finite loss, with crashed trials (NaN or inf) as the worst.
double sanitize_loss(double loss);

}  // namespace graybox::controllers
