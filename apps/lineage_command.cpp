// graybox lineage RUN_DIR: the best member's ancestry in a PBT/PB2 run, from the population
// state committed in the run's store; writes lineage.json, lineage.dot and schedules/best.yaml.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "apps/commands.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/run_store.hpp"
#include "pbt/lineage.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace graybox::apps {

int lineage_command(const std::string& run_dir, bool as_json) {
  if (!fs::exists(run_dir + "/store.sqlite")) throw core::UserError(run_dir + ": not a run directory (no store.sqlite)");
  core::RunStore store(run_dir + "/store.sqlite");
  const std::string text = store.meta("pbt_state");
  if (text.empty()) throw core::UserError(run_dir + ": not a pbt or pb2 run (no population state in its store)");
  const json state = json::parse(text);
  std::vector<pbt::LineageEvent> events;
  for (const auto& e : state.at("lineage")) events.push_back(pbt::LineageEvent::from_json(e));
  const bool maximize = state.at("maximize").get<bool>();
  std::map<int, double> finals;
  std::map<int, std::int64_t> steps;
  int best = -1;
  int id = 0;
  for (const auto& m : state.at("members")) {
    const double score = m.at("score").is_null() ? std::nan("") : m.at("score").get<double>();
    finals[id] = score;
    steps[id] = m.at("steps").get<std::int64_t>();
    if (std::isfinite(score) && (best < 0 || (maximize ? score > finals[best] : score < finals[best]))) best = id;
    ++id;
  }
  if (best < 0) throw core::UserError(run_dir + ": no member has a finite score yet");
  const std::vector<pbt::Segment> chain = pbt::ancestry(events, best, steps[best]);

  json j;
  j["best_member"] = best;
  j["metric"] = state.at("metric");
  j["maximize"] = maximize;
  j["members"] = json::array();
  for (const auto& [member, score] : finals) {
    j["members"].push_back({{"member", member}, {"score", std::isfinite(score) ? json(score) : json()},
                            {"steps", steps[member]}});
  }
  j["events"] = json::array();
  for (const auto& e : events) j["events"].push_back(e.to_json());
  j["best_ancestry"] = json::array();
  for (const auto& s : chain) {
    j["best_ancestry"].push_back({{"member", s.member}, {"from", s.from}, {"to", s.to}, {"config", s.config},
                                  {"hyperparameters", s.hyperparameters}});
  }
  core::write_file_atomic(run_dir + "/lineage.json", j.dump(2) + "\n");
  core::write_file_atomic(run_dir + "/lineage.dot", pbt::lineage_dot(events, finals, chain));
  // The schedule of the tuned hyperparameters (the others never change).
  const auto tuned = state.at("tuned").get<std::set<std::string>>();
  pbt::HyperparameterSchedules schedules;
  for (auto& [name, points] : pbt::schedule_of(chain)) {
    if (tuned.count(name)) schedules.points[name] = points;
  }
  fs::create_directories(run_dir + "/schedules");
  pbt::write_schedules(run_dir + "/schedules/best.yaml", schedules);

  if (as_json) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("best member %d (%s %.6g); its ancestry, oldest first:\n", best,
              state.at("metric").get<std::string>().c_str(), finals[best]);
  std::printf("%-7s %-12s %-12s %s\n", "member", "from", "to", "configuration");
  for (const auto& s : chain) {
    std::printf("%-7d %-12lld %-12lld %s\n", s.member, static_cast<long long>(s.from), static_cast<long long>(s.to),
                s.config.dump().c_str());
  }
  std::printf("wrote %s/lineage.json, lineage.dot (dot -Tsvg) and schedules/best.yaml\n", run_dir.c_str());
  return 0;
}

}  // namespace graybox::apps
