#include "pbt/lineage.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/files.hpp"

namespace graybox::pbt {

nlohmann::json LineageEvent::to_json() const {
  nlohmann::json j = {{"kind", kind},           {"member", member},          {"donor", donor},
          {"member_step", member_step}, {"donor_step", donor_step}, {"old_config", old_config},
          {"new_config", new_config}, {"hyperparameters", hyperparameters},
          {"member_score", std::isfinite(member_score) ? nlohmann::json(member_score) : nlohmann::json()},
          {"donor_score", std::isfinite(donor_score) ? nlohmann::json(donor_score) : nlohmann::json()}};
  if (!checkpoint.empty()) j["checkpoint"] = checkpoint;
  return j;
}

LineageEvent LineageEvent::from_json(const nlohmann::json& j) {
  LineageEvent e;
  e.kind = j.at("kind").get<std::string>();
  e.member = j.at("member").get<int>();
  e.donor = j.at("donor").get<int>();
  e.member_step = j.at("member_step").get<std::int64_t>();
  e.donor_step = j.at("donor_step").get<std::int64_t>();
  e.old_config = j.at("old_config");
  e.new_config = j.at("new_config");
  e.hyperparameters = j.at("hyperparameters").get<std::map<std::string, double>>();
  e.member_score = j.at("member_score").is_null() ? std::nan("") : j.at("member_score").get<double>();
  e.donor_score = j.at("donor_score").is_null() ? std::nan("") : j.at("donor_score").get<double>();
  e.checkpoint = j.value("checkpoint", std::string());
  return e;
}

std::vector<Segment> ancestry(const std::vector<LineageEvent>& events, int member, std::int64_t final_step) {
  std::vector<Segment> chain;
  int current = member;
  std::int64_t end = final_step;
  // Walk back in time: an exploit hands the chain to the donor at the step it was copied.
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (it->member != current) continue;
    Segment s{current, 0, end, it->new_config, it->hyperparameters};
    if (it->kind == "start") {
      chain.push_back(s);
      break;
    }
    s.from = it->donor_step;
    chain.push_back(s);
    end = it->donor_step;
    if (it->kind == "exploit") current = it->donor;
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

std::map<std::string, std::vector<std::pair<double, double>>> schedule_of(const std::vector<Segment>& chain) {
  std::map<std::string, std::vector<std::pair<double, double>>> out;
  for (const auto& s : chain) {
    for (const auto& [name, value] : s.hyperparameters) {
      auto& points = out[name];
      const double t = static_cast<double>(s.from);
      if (!points.empty() && points.back().second == value) continue;
      if (!points.empty() && points.back().first == t) {
        points.back().second = value;  // a zero-length stretch: the later value wins
      } else {
        points.emplace_back(t, value);
      }
    }
  }
  return out;
}

std::map<std::string, double> HyperparameterSchedules::at(double t) const {
  std::map<std::string, double> out;
  for (const auto& [name, pts] : points) {
    if (pts.empty()) continue;
    double v = pts.front().second;
    for (const auto& [step, value] : pts) {
      if (step <= t) v = value;
    }
    out[name] = v;
  }
  return out;
}

void write_schedules(const std::string& path, const HyperparameterSchedules& schedules) {
  YAML::Emitter y;
  y.SetDoublePrecision(17);
  y << YAML::BeginMap << YAML::Key << "unit" << YAML::Value << schedules.unit;
  y << YAML::Key << "hyperparameters" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, pts] : schedules.points) {
    y << YAML::Key << name << YAML::Value << YAML::BeginMap << YAML::Key << "interpolation" << YAML::Value << "hold";
    y << YAML::Key << "points" << YAML::Value << YAML::BeginSeq;
    for (const auto& [t, v] : pts) y << YAML::Flow << YAML::BeginSeq << t << v << YAML::EndSeq;
    y << YAML::EndSeq << YAML::EndMap;
  }
  y << YAML::EndMap << YAML::EndMap;
  core::write_file_atomic(path, std::string("# a hyperparameter schedule; replay it with graybox train --set replay.file=") +
                                    path + "\n" + y.c_str() + "\n");
}

HyperparameterSchedules read_schedules(const std::string& path) {
  HyperparameterSchedules s;
  try {
    const YAML::Node root = YAML::LoadFile(path);
    if (!root.IsMap() || !root["hyperparameters"] || !root["hyperparameters"].IsMap()) {
      throw core::UserError(path + ": a schedules file needs a 'hyperparameters' mapping");
    }
    if (root["unit"]) s.unit = root["unit"].as<std::string>();
    for (const auto& entry : root["hyperparameters"]) {
      const std::string name = entry.first.as<std::string>();
      const YAML::Node node = entry.second;
      if (node["interpolation"] && node["interpolation"].as<std::string>() != "hold") {
        throw core::UserError(path + ": " + name + ": only interpolation 'hold' is supported");
      }
      if (!node["points"] || !node["points"].IsSequence() || node["points"].size() == 0) {
        throw core::UserError(path + ": " + name + ": needs a non-empty 'points' list of [step, value]");
      }
      auto& pts = s.points[name];
      for (const auto& p : node["points"]) {
        if (!p.IsSequence() || p.size() != 2) throw core::UserError(path + ": " + name + ": each point is [step, value]");
        pts.emplace_back(p[0].as<double>(), p[1].as<double>());
      }
      if (!std::is_sorted(pts.begin(), pts.end())) throw core::UserError(path + ": " + name + ": points must be sorted by step");
    }
  } catch (const YAML::Exception& e) {
    throw core::UserError(path + ": not a valid schedules file (" + e.msg + ")");
  }
  return s;
}

std::string lineage_dot(const std::vector<LineageEvent>& events, const std::map<int, double>& final_scores,
                        const std::vector<Segment>& best_chain) {
  std::set<int> on_chain;
  for (const auto& s : best_chain) on_chain.insert(s.member);
  std::ostringstream out;
  out << "digraph lineage {\n  rankdir=LR;\n  node [shape=box];\n";
  for (const auto& [member, score] : final_scores) {
    out << "  m" << member << " [label=\"member " << member << "\\nscore " << score << "\"";
    if (on_chain.count(member)) out << ", color=red, penwidth=2";
    out << "];\n";
  }
  // An exploit is on the best chain if it is the hand-over between consecutive segments.
  std::set<std::pair<int, std::int64_t>> chain_edges;
  for (std::size_t k = 1; k < best_chain.size(); ++k) chain_edges.insert({best_chain[k].member, best_chain[k].from});
  for (const auto& e : events) {
    if (e.kind != "exploit") continue;
    out << "  m" << e.donor << " -> m" << e.member << " [label=\"step " << e.donor_step << "\"";
    if (chain_edges.count({e.member, e.donor_step})) out << ", color=red, penwidth=2";
    out << "];\n";
  }
  out << "}\n";
  return out.str();
}

nlohmann::json write_lineage_exports(const std::string& dir, const std::vector<LineageEvent>& events,
                                     const std::vector<MemberSummary>& members, int best,
                                     const std::vector<Segment>& best_chain, const std::string& metric,
                                     bool maximize, const std::set<std::string>& tuned) {
  nlohmann::json j;
  j["best_member"] = best;
  j["metric"] = metric;
  j["maximize"] = maximize;
  j["members"] = nlohmann::json::array();
  std::map<int, double> finals;
  for (const auto& m : members) {
    finals[m.member] = m.score;
    nlohmann::json entry{{"member", m.member},
                         {"score", std::isfinite(m.score) ? nlohmann::json(m.score) : nlohmann::json()},
                         {"steps", m.steps}};
    if (!m.config.is_null()) entry["config"] = m.config;
    j["members"].push_back(entry);
  }
  j["events"] = nlohmann::json::array();
  for (const auto& e : events) j["events"].push_back(e.to_json());
  j["best_ancestry"] = nlohmann::json::array();
  for (const auto& s : best_chain) {
    j["best_ancestry"].push_back({{"member", s.member}, {"from", s.from}, {"to", s.to}, {"config", s.config},
                                  {"hyperparameters", s.hyperparameters}});
  }
  core::write_file_atomic(dir + "/lineage.json", j.dump(2) + "\n");
  core::write_file_atomic(dir + "/lineage.dot", lineage_dot(events, finals, best_chain));
  HyperparameterSchedules schedules;
  for (auto& [name, points] : schedule_of(best_chain)) {
    if (tuned.count(name)) schedules.points[name] = points;
  }
  std::filesystem::create_directories(dir + "/schedules");
  write_schedules(dir + "/schedules/best.yaml", schedules);
  return j;
}

}  // namespace graybox::pbt
