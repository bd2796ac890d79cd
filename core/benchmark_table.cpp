#include "core/benchmark_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace graybox::core {
namespace {

std::string number(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4g", v);
  return buffer;
}

std::string with_interval(const Interval& i) { return number(i.point) + " [" + number(i.low) + ", " + number(i.high) + "]"; }

// The scores of one method, task by task in `tasks`' order; empty if a task has none.
TaskScores scores_of(const std::map<std::pair<std::string, std::string>, std::vector<double>>& by, const std::string& method,
                     const std::vector<std::string>& tasks) {
  TaskScores out;
  for (const auto& t : tasks) {
    const auto it = by.find({t, method});
    if (it == by.end() || it->second.empty()) return {};
    out.push_back(it->second);
  }
  return out;
}

TaskScores oriented(TaskScores s, bool maximize) {
  if (!maximize) {
    for (auto& task : s) {
      for (auto& v : task) v = -v;
    }
  }
  return s;
}

std::vector<double> spaced(double low, double high, int points) {
  std::vector<double> out;
  for (int k = 0; k < points; ++k) out.push_back(points == 1 ? low : low + (high - low) * k / (points - 1));
  return out;
}

}  // namespace

std::string BenchmarkTable::significance(const MethodRow& row) {
  if (!row.has_improvement) return "";
  if (row.improvement.low > 0.5) return "better";
  if (row.improvement.high < 0.5) return "worse";
  return "no";
}

BenchmarkTable benchmark_table(const std::vector<BenchmarkRun>& runs, const BenchmarkOptions& options) {
  std::map<std::pair<std::string, std::string>, std::vector<double>> raw;  // (task, method) -> scores
  std::map<std::pair<std::string, std::string>, std::vector<std::int64_t>> spent;
  std::map<std::string, std::pair<double, double>> range;  // task -> (min, max) over every run
  for (const auto& r : runs) {
    if (!std::isfinite(r.score)) continue;
    raw[{r.task, r.method}].push_back(r.score);
    spent[{r.task, r.method}].push_back(r.spent);
    auto it = range.find(r.task);
    if (it == range.end()) {
      range[r.task] = {r.score, r.score};
    } else {
      it->second.first = std::min(it->second.first, r.score);
      it->second.second = std::max(it->second.second, r.score);
    }
  }
  // Normalised copies for the overall scope: 1 is the task's best run.
  std::map<std::pair<std::string, std::string>, std::vector<double>> normalised = raw;
  for (auto& [key, values] : normalised) {
    const auto [low, high] = range[key.first];
    for (auto& v : values) {
      const double x = high > low ? (v - low) / (high - low) : 0.5;
      v = options.maximize ? x : 1.0 - x;
    }
  }
  std::vector<std::string> present;  // tasks with runs
  for (const auto& t : options.tasks) {
    if (range.count(t)) present.push_back(t);
  }

  BenchmarkTable table;
  const auto mean_of = [](const std::vector<double>& x) { return mean(x); };
  const auto median_of = [](const std::vector<double>& x) { return median(x); };
  const auto iqm_of = [](const std::vector<double>& x) { return interquartile_mean(x); };
  const auto add_scope = [&](const std::string& scope, const std::vector<std::string>& tasks,
                             const std::map<std::pair<std::string, std::string>, std::vector<double>>& values,
                             const std::vector<double>& taus) {
    const TaskScores baseline = scores_of(raw, options.baseline, tasks);
    for (const auto& method : options.methods) {
      const TaskScores s = scores_of(values, method, tasks);
      if (s.empty()) continue;
      MethodRow row;
      row.scope = scope;
      row.method = method;
      for (const auto& task : s) row.runs += static_cast<int>(task.size());
      row.mean = aggregate_interval(s, mean_of, options.replicates, options.seed);
      row.median = aggregate_interval(s, median_of, options.replicates, options.seed);
      row.iqm = aggregate_interval(s, iqm_of, options.replicates, options.seed);
      if (method != options.baseline && !baseline.empty()) {
        row.has_improvement = true;
        row.improvement = probability_of_improvement_interval(oriented(scores_of(raw, method, tasks), options.maximize),
                                                              oriented(baseline, options.maximize), options.replicates,
                                                              options.seed);
      }
      double total = 0.0;
      int cells = 0;
      for (const auto& t : tasks) {
        for (const auto v : spent.at({t, method})) total += static_cast<double>(v), ++cells;
      }
      row.mean_spent = cells ? total / cells : 0.0;
      row.budget_off = options.budget > 0 &&
                       std::fabs(row.mean_spent - static_cast<double>(options.budget)) >
                           options.budget_tolerance * static_cast<double>(options.budget);
      table.rows.push_back(row);
      // Fraction of runs better than tau (scores above it; below it when lower is better).
      Profile p{scope, method, taus, {}};
      std::vector<double> oriented_taus = taus;
      if (!options.maximize && scope != "overall") {
        for (auto& t : oriented_taus) t = -t;
      }
      p.fractions = performance_profile(scope == "overall" || options.maximize ? s : oriented(s, false), oriented_taus);
      table.profiles.push_back(p);
    }
  };
  for (const auto& t : present) add_scope(t, {t}, raw, spaced(range[t].first, range[t].second, options.profile_points));
  if (!present.empty()) add_scope("overall", present, normalised, spaced(0.0, 1.0, options.profile_points));
  return table;
}

std::string benchmark_markdown(const BenchmarkTable& table, const BenchmarkOptions& options) {
  std::ostringstream out;
  out << "| scope | method | runs | mean [95% CI] | median [95% CI] | IQM [95% CI] | P(better than " << options.baseline
      << ") [95% CI] | significant | budget per cell |\n";
  out << "|---|---|---:|---|---|---|---|---|---:|\n";
  for (const auto& r : table.rows) {
    out << "| " << r.scope << " | " << r.method << " | " << r.runs << " | " << with_interval(r.mean) << " | "
        << with_interval(r.median) << " | " << with_interval(r.iqm) << " | "
        << (r.has_improvement ? with_interval(r.improvement) : "(baseline)") << " | " << BenchmarkTable::significance(r)
        << " | " << number(r.mean_spent) << (r.budget_off ? " (off budget)" : "") << " |\n";
  }
  return out.str();
}

std::string benchmark_csv(const BenchmarkTable& table) {
  std::ostringstream out;
  out.precision(10);
  out << "scope,method,runs,mean,mean_low,mean_high,median,median_low,median_high,iqm,iqm_low,iqm_high,"
         "improvement,improvement_low,improvement_high,significant,mean_spent,budget_off\n";
  for (const auto& r : table.rows) {
    out << r.scope << ',' << r.method << ',' << r.runs;
    for (const Interval& i : {r.mean, r.median, r.iqm}) out << ',' << i.point << ',' << i.low << ',' << i.high;
    if (r.has_improvement) {
      out << ',' << r.improvement.point << ',' << r.improvement.low << ',' << r.improvement.high;
    } else {
      out << ",,,";
    }
    out << ',' << BenchmarkTable::significance(r) << ',' << r.mean_spent << ',' << (r.budget_off ? 1 : 0) << '\n';
  }
  return out.str();
}

std::string profiles_csv(const BenchmarkTable& table) {
  std::ostringstream out;
  out.precision(10);
  out << "scope,method,tau,fraction\n";
  for (const auto& p : table.profiles) {
    for (std::size_t k = 0; k < p.taus.size(); ++k) {
      out << p.scope << ',' << p.method << ',' << p.taus[k] << ',' << p.fractions[k] << '\n';
    }
  }
  return out.str();
}

}  // namespace graybox::core
