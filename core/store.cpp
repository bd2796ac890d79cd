#include "core/store.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <stdexcept>

#include "core/error.hpp"

namespace graybox::core {

void Store::add_metric(std::int64_t trial, std::int64_t step, const std::string& name, double value) {
  pending_.rows.push_back({Batch::Table::kMetric, trial, step, name, value, {}});
}

void Store::set_metric(std::int64_t trial, std::int64_t step, const std::string& name, double value) {
  pending_.rows.push_back({Batch::Table::kReplacingMetric, trial, step, name, value, {}});
}

void Store::add_hyperparameter(std::int64_t trial, std::int64_t step, const std::string& name, double value) {
  pending_.rows.push_back({Batch::Table::kHyperparameter, trial, step, name, value, {}});
}

void Store::add_event(std::int64_t trial, std::int64_t step, const std::string& kind, const std::string& detail) {
  pending_.rows.push_back({Batch::Table::kEvent, trial, step, kind, 0.0, detail});
}

void Store::upsert_trial(const TrialRow& row) { pending_.trials.push_back(row); }

void Store::set_meta_on_commit(const std::string& key, const std::string& value) {
  pending_.meta.emplace_back(key, value);
}

void Store::append_state(const std::string& key, const std::string& entry) { pending_.state.emplace_back(key, entry); }

void Store::commit() {
  if (pending_.empty()) return;
  write(pending_);
  pending_ = Batch();
}

void Store::commit_quietly() noexcept {
  try {
    commit();
  } catch (...) {
    // Never throw from a destructor.
  }
}

Store::Existing Store::on_existing(const Batch::Row& row, std::int64_t rows, std::int64_t values) const {
  if (rows == 0) return Existing::kInsert;
  if (row.table == Batch::Table::kMetric && values > 0) {
    throw std::logic_error(location_ + ": refusing a second value for metric " + row.name + " of trial " +
                           std::to_string(row.trial) + " at step " + std::to_string(row.step) +
                           " (the store already holds one from an earlier commit)");
  }
  return Existing::kReplace;
}

void Store::export_csv(const std::string& path) const {
  const auto rows = metrics();
  std::set<std::string> names;
  for (const auto& row : rows) names.insert(row.name);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "trial,step";
    for (const auto& name : names) out << ',' << name;
    out << '\n';
    out << std::setprecision(10);
    std::size_t i = 0;
    while (i < rows.size()) {
      const auto trial = rows[i].trial;
      const auto step = rows[i].step;
      std::map<std::string, double> line;
      for (; i < rows.size() && rows[i].trial == trial && rows[i].step == step; ++i) {
        line[rows[i].name] = rows[i].value;  // the last value of a name at a step wins
      }
      out << trial << ',' << step;
      for (const auto& name : names) {
        out << ',';
        const auto it = line.find(name);
        if (it != line.end() && std::isfinite(it->second)) out << it->second;
      }
      out << '\n';
    }
    out.flush();
    if (!out) throw UserError(tmp + ": cannot write the metrics CSV: " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw UserError(path + ": cannot replace the metrics CSV: " + std::strerror(errno));
  }
}

}  // namespace graybox::core
