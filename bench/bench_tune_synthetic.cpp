// BOHB vs Hyperband vs random search on the multi-fidelity synthetic objectives: the best
// full-budget value found against the total budget spent, over 10 seeds (mean and median), and
// at each budget the difference of BOHB's median from Hyperband's with a 95 % bootstrap interval
// (each method's seeds resampled on their own, 2,000 times, a fixed bootstrap seed).
// Budget is counted as trainers spend it: a promoted trial pays only its increment.
// Usage: bench_tune_synthetic [SEEDS]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "controllers/controller.hpp"
#include "core/yaml.hpp"
#include "tasks/synthetic_task.hpp"

namespace {

using namespace graybox;

// Runs one experiment; returns (budget spent, best full-budget value so far) after each result.
std::vector<std::pair<std::int64_t, double>> run(const std::string& task, const std::string& algorithm,
                                                 std::uint64_t seed, std::int64_t budget_limit) {
  const bool branin = task.rfind("branin", 0) == 0;
  std::string space_yaml;
  if (branin) {
    space_yaml = "x1: {type: float, low: -5, high: 10}\nx2: {type: float, low: 0, high: 15}\n";
  } else {
    for (int i = 1; i <= 6; ++i) space_yaml += "x" + std::to_string(i) + ": {type: float, low: 0, high: 1}\n";
  }
  const core::SearchSpace space = core::SearchSpace::from_yaml(YAML::Load(space_yaml), task);
  const auto factory = tasks::make_synthetic_factory(task);
  controllers::ControllerOptions o;
  o.algorithm = algorithm;
  o.max_budget = 81;
  o.min_budget = 1;
  o.eta = 3;
  o.num_trials = 1000000;
  o.iterations = 1000;
  auto controller = controllers::make_controller(o, space, seed);
  std::map<int, std::unique_ptr<core::Trainable>> trials;
  std::vector<std::pair<std::int64_t, double>> curve;
  std::int64_t spent = 0;
  double best = INFINITY;
  graybox::core::NullSink sink;
  while (spent < budget_limit) {
    const auto s = controller->suggest();
    if (s.kind != controllers::Suggestion::Kind::kJob) break;
    auto& t = trials[s.job.trial];
    if (!t) t = factory->make(space.overrides(s.job.config), seed * 1000003 + s.job.trial, o.max_budget);
    spent += s.job.budget - t->steps_done();
    t->train(s.job.budget - t->steps_done(), sink);
    const double value = factory->score(*t);
    if (s.job.budget == o.max_budget) best = std::min(best, value);
    controller->on_result(s.job, value);
    curve.emplace_back(spent, best);
  }
  return curve;
}

double at(const std::vector<std::pair<std::int64_t, double>>& curve, std::int64_t budget) {
  double best = INFINITY;
  for (const auto& [spent, value] : curve) {
    if (spent > budget) break;
    best = value;
  }
  return best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return 0.5 * (v[(v.size() - 1) / 2] + v[v.size() / 2]);
}

// The 2.5 % and 97.5 % points of median(a*) - median(b*) over resamples a*, b* of a and b.
std::pair<double, double> bootstrap_median_difference(const std::vector<double>& a, const std::vector<double>& b) {
  std::mt19937_64 gen(20181);
  const auto resample = [&gen](const std::vector<double>& v) {
    std::uniform_int_distribution<std::size_t> pick(0, v.size() - 1);
    std::vector<double> r(v.size());
    for (double& x : r) x = v[pick(gen)];
    return r;
  };
  std::vector<double> diffs;
  for (int k = 0; k < 2000; ++k) diffs.push_back(median(resample(a)) - median(resample(b)));
  std::sort(diffs.begin(), diffs.end());
  return {diffs[49], diffs[1949]};
}

}  // namespace

int main(int argc, char** argv) {
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 10;
  const std::vector<std::int64_t> marks = {500, 1000, 2000, 4000, 8000};
  for (const std::string task : {"branin_mf", "hartmann6_mf"}) {
    std::printf("\n%s (max budget 81, eta 3; optimum %s), best full-budget value vs budget spent, %d seeds\n",
                task.c_str(), task == "branin_mf" ? "0.397887" : "-3.32237", seeds);
    std::printf("| algorithm | statistic |");
    for (const auto m : marks) std::printf(" %lld |", static_cast<long long>(m));
    std::printf("\n|---|---|");
    for (std::size_t i = 0; i < marks.size(); ++i) std::printf("---|");
    std::printf("\n");
    std::map<std::string, std::vector<std::vector<double>>> by_algorithm;
    for (const std::string algorithm : {"random", "hyperband", "bohb"}) {
      std::vector<std::vector<double>>& values = by_algorithm[algorithm];
      values.resize(marks.size());
      for (int seed = 1; seed <= seeds; ++seed) {
        const auto curve = run(task, algorithm, static_cast<std::uint64_t>(seed), marks.back());
        for (std::size_t i = 0; i < marks.size(); ++i) values[i].push_back(at(curve, marks[i]));
      }
      for (const std::string stat : {"mean", "median"}) {
        std::printf("| %s | %s |", algorithm.c_str(), stat.c_str());
        for (auto& v : values) {
          std::sort(v.begin(), v.end());
          double x = 0;
          if (stat == "mean") {
            for (const double y : v) x += y / static_cast<double>(v.size());
          } else {
            x = median(v);
          }
          std::printf(" %.4f |", x);
        }
        std::printf("\n");
      }
    }
    std::printf("| bohb - hyperband | median [95 %%] |");
    for (std::size_t i = 0; i < marks.size(); ++i) {
      const auto& b = by_algorithm["bohb"][i];
      const auto& h = by_algorithm["hyperband"][i];
      const auto [low, high] = bootstrap_median_difference(b, h);
      std::printf(" %+.4f [%+.4f, %+.4f] |", median(b) - median(h), low, high);
    }
    std::printf("\n");
  }
  return 0;
}
