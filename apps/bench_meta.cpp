#include "apps/bench_meta.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.hpp"
#include "core/store.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace graybox::apps {

json MetaTraining::to_json() const {
  return {{"method", method},   {"status", status},           {"control_steps", control_steps}, {"episodes", episodes},
          {"minibatches", minibatches}, {"wall_seconds", wall_seconds}, {"message", message}};
}

MetaTraining MetaTraining::from_json(const json& j) {
  MetaTraining m;
  m.method = j.at("method").get<std::string>();
  m.status = j.at("status").get<std::string>();
  m.control_steps = j.at("control_steps").get<std::int64_t>();
  m.episodes = j.at("episodes").get<std::int64_t>();
  m.minibatches = j.at("minibatches").get<std::int64_t>();
  m.wall_seconds = j.at("wall_seconds").get<double>();
  m.message = j.value("message", "");
  return m;
}

std::string meta_training_dir(const std::string& bench_dir, const std::string& method) { return bench_dir + "/meta/" + method; }
std::string meta_policy_path(const std::string& bench_dir, const std::string& method) {
  return meta_training_dir(bench_dir, method) + "/policy.pt";
}
std::string meta_training_log(const std::string& bench_dir, const std::string& method) {
  return bench_dir + "/logs/meta." + method + ".log";
}

MetaTraining run_meta_training(const std::string& bench_dir, const BenchEntry& method, const ChildWatcher& watch) {
  MetaTraining m;
  m.method = method.name;
  const std::string dir = meta_training_dir(bench_dir, method.name), log = meta_training_log(bench_dir, method.name);
  const auto argv = [&](bool resume) {
    std::vector<std::string> args = {"control", "train"};
    if (resume) {
      args.push_back("--resume");
    } else {
      args.push_back(method.config);
      for (const auto& s : method.sets) args.insert(args.end(), {"--set", s});
    }
    args.insert(args.end(), {"--out", dir, "--quiet"});
    return args;
  };
  const int code = run_to_end(dir, [&] { return has_checkpoint(dir); }, argv, log, watch);
  if (is_stop_code(code)) {
    m.status = "stopped";
    return m;
  }
  if (code != 0) {
    m.status = "failed";
    m.message = "graybox control train exited with " + std::to_string(code) + " (see " + log + ")";
    return m;
  }
  const json summary = read_run_summary(dir);
  m.status = summary.value("status", "failed");
  m.control_steps = summary.value("control_steps", std::int64_t{0});
  m.episodes = summary.value("episodes", std::int64_t{0});
  m.minibatches = summary.value("minibatches", std::int64_t{0});
  m.wall_seconds = summary.value("wall_seconds", 0.0);
  std::error_code ec;
  if (!fs::exists(meta_policy_path(bench_dir, method.name), ec)) {
    m.status = "failed";
    m.message = "no policy.pt in " + dir + " (see " + log + ")";
  }
  return m;
}

std::vector<MetaTraining> saved_meta_trainings(const core::Store& store) {
  const std::string text = store.meta("meta_training");
  std::vector<MetaTraining> out;
  if (text.empty()) return out;
  try {
    for (const auto& j : json::parse(text)) out.push_back(MetaTraining::from_json(j));
  } catch (const std::exception& e) {
    throw core::UserError(store.location() + ": the benchmark's meta-training record is unreadable (" + e.what() + ")");
  }
  return out;
}

json meta_trainings_json(const std::vector<MetaTraining>& done) {
  json j = json::array();
  for (const auto& m : done) j.push_back(m.to_json());
  return j;
}

void save_meta_trainings(core::Store& store, const std::vector<MetaTraining>& done) {
  store.set_meta("meta_training", meta_trainings_json(done).dump());
  store.commit();
}

namespace {

// One row per meta-training: `format` takes method, status, control steps, episodes, minibatches, seconds.
std::string meta_rows(const std::vector<MetaTraining>& done, const char* format) {
  std::string text;
  for (const auto& m : done) {
    char line[256];
    std::snprintf(line, sizeof line, format, m.method.c_str(), m.status.c_str(), static_cast<long long>(m.control_steps),
                  static_cast<long long>(m.episodes), static_cast<long long>(m.minibatches), m.wall_seconds);
    text += line;
  }
  return text;
}

}  // namespace

std::string meta_training_markdown(const std::vector<MetaTraining>& done) {
  if (done.empty()) return "";
  return "\nMeta-training, apart from the budgets above (each control cell's budget is its deployment, a fit run steered by "
         "the policy):\n\n| method | status | control steps | episodes | minibatches | seconds |\n|---|---|---:|---:|---:|---:|\n" +
         meta_rows(done, "| %s | %s | %lld | %lld | %lld | %.1f |\n");
}

std::string meta_training_csv(const std::vector<MetaTraining>& done) {
  return "method,status,control_steps,episodes,minibatches,wall_seconds\n" + meta_rows(done, "%s,%s,%lld,%lld,%lld,%.3f\n");
}

}  // namespace graybox::apps
