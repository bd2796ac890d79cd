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
#include "core/state_journal.hpp"
#include "store/sqlite_store.hpp"
#include "pbt/lineage.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace graybox::apps {

int lineage_command(const std::string& run_dir, bool as_json) {
  if (!fs::exists(run_dir + "/store.sqlite")) throw core::UserError(run_dir + ": not a run directory (no store.sqlite)");
  store::SqliteStore store(run_dir + "/store.sqlite");
  const json state = core::StateJournal(store, "pbt", "pbt_state").load();
  if (state.is_null()) throw core::UserError(run_dir + ": not a pbt or pb2 run (no population state in its store)");
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

  std::vector<pbt::MemberSummary> members;
  for (const auto& [member, score] : finals) members.push_back({member, score, steps[member], json()});
  const json j = pbt::write_lineage_exports(run_dir, events, members, best, chain, state.at("metric").get<std::string>(),
                                            maximize, state.at("tuned").get<std::set<std::string>>());

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
