#include "apps/bench_plan.hpp"

#include <filesystem>
#include <set>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/yaml.hpp"

namespace fs = std::filesystem;

namespace graybox::apps {

const std::vector<std::string> kMethodCommands = {"train", "fit", "tune", "control"};

core::ConfigSchema bench_schema() {
  core::ConfigSchema s;
  s.add_int("seeds", 5, "runs of every method on every task, seeds first_seed, first_seed+1, ...", 1, 10000);
  s.add_int("first_seed", 1, "the first seed", 0, 9.0e15);
  s.add_string("baseline", "", "the method every other is compared with (probability of improvement); \"\": the first");
  s.add_string("score", "eval", "a cell's score: eval (RL: the deterministic evaluation of the final policy, a tune run's "
               "best trial or member by graybox eval; supervised: test accuracy) or summary (final_return, test_accuracy, best_score)",
               {"eval", "summary"});
  s.add_int("eval_episodes", 10, "score eval, a tune cell on RL: evaluation episodes (a train cell: its eval.episodes)", 1, 100000);
  s.add_bool("maximize", true, "whether a higher score is better");
  s.add_int("budget", 0, "the budget every cell should spend, in the task's units (env steps, minibatches, synthetic steps); "
            "0: no check", 0, 9.0e15);
  s.add_float("budget_tolerance", 0.1, "a method whose cells spend more than this fraction off `budget` is flagged", 0.0, 10.0);
  s.add_int("parallel", 1, "cells run side by side (each a graybox process)", 1, 1024);
  s.add_int("bootstrap.replicates", 2000, "stratified bootstrap replicates of every interval", 100, 1000000);
  s.add_int("bootstrap.seed", 0, "the bootstrap's seed (a re-run prints the same intervals)", 0, 9.0e15);
  s.add_int("smoke.seeds", 2, "--smoke: runs per method and task", 1, 10000);
  s.add_int("smoke.eval_episodes", 1, "--smoke: eval_episodes", 1, 100000);
  s.add_int("smoke.budget", 0, "--smoke: the budget every cell should spend (0: no check)", 0, 9.0e15);
  s.allow_raw_section("methods");
  s.allow_raw_section("tasks");
  return s;
}

const std::vector<EntryField>& bench_entry_fields() {
  static const std::vector<EntryField> fields = {
      {"methods.NAME.command", "", "train, fit (the task's config with `set`), tune (a tune config on the task) or control "
       "(a meta-trained lr/wd policy deployed on a fit task); required"},
      {"methods.NAME.config", "\"\"", "tune: the tune config (its base_config becomes the task); control: the graybox control "
       "train config, meta-trained once per benchmark; train, fit: none"},
      {"methods.NAME.set", "[]", "--set KEY=VALUE overrides of the method's command (control: of the meta-training)"},
      {"methods.NAME.smoke_set", "[]", "--smoke: more overrides (tiny budgets)"},
      {"methods.NAME.deploy_set", "[]", "control: --set overrides of each cell's graybox fit run that deploys the policy "
       "(its schedule must be constant with value 1)"},
      {"tasks.NAME.config", "", "the task's base config: a graybox train or fit file; required"},
      {"tasks.NAME.set", "[]", "KEY=VALUE overrides of the task's config"},
      {"tasks.NAME.smoke_set", "[]", "--smoke: more overrides of the task's config (tiny budgets)"},
  };
  return fields;
}

namespace {

std::string position(const std::string& file, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

[[noreturn]] void fail(const std::string& file, const YAML::Node& node, const std::string& field, const std::string& what) {
  throw core::ConfigError(position(file, node) + ": " + field + ": " + what);
}

std::vector<std::string> string_list(const std::string& file, const YAML::Node& node, const std::string& field) {
  std::vector<std::string> out;
  if (!node) return out;
  if (!node.IsSequence()) fail(file, node, field, "expected a list of KEY=VALUE strings");
  for (const auto& item : node) {
    if (!item.IsScalar() || item.as<std::string>().find('=') == std::string::npos) {
      fail(file, item, field, "expected KEY=VALUE");
    }
    out.push_back(item.as<std::string>());
  }
  return out;
}

// The entries of `methods:` or `tasks:`, in file order.
std::vector<BenchEntry> entries(const std::string& file, const YAML::Node& root, const std::string& section, bool smoke) {
  const YAML::Node list = root[section];
  if (!list) throw core::ConfigError(file + ": missing '" + section + "' (a mapping of names to entries)");
  if (!list.IsMap() || list.size() == 0) fail(file, list, section, "expected a non-empty mapping of names to entries");
  const bool methods = section == "methods";
  const std::set<std::string> known = methods ? std::set<std::string>{"command", "config", "set", "smoke_set", "deploy_set"}
                                              : std::set<std::string>{"config", "set", "smoke_set"};
  const fs::path folder = fs::absolute(file).parent_path();
  std::vector<BenchEntry> out;
  for (auto it = list.begin(); it != list.end(); ++it) {
    const YAML::Node key = it->first, body = it->second;
    BenchEntry e;
    e.name = key.as<std::string>();
    const std::string field = section + "." + e.name;
    if (e.name.empty() || e.name.find_first_of("/ \t,\"'") != std::string::npos) {
      fail(file, key, field, "a name must be non-empty without '/', spaces, commas or quotes");
    }
    if (!body.IsMap()) fail(file, body, field, "expected a mapping (" + std::string(methods ? "command, " : "") + "config, set, smoke_set)");
    for (auto f = body.begin(); f != body.end(); ++f) {
      const std::string name = f->first.as<std::string>();
      if (!known.count(name)) fail(file, f->first, field + "." + name, "unknown field (graybox keys bench lists them)");
    }
    if (methods) {
      if (!body["command"] || !body["command"].IsScalar()) fail(file, body, field + ".command", "required: train, fit, tune or control");
      e.command = body["command"].as<std::string>();
      bool ok = false;
      for (const auto& c : kMethodCommands) ok = ok || c == e.command;
      if (!ok) fail(file, body["command"], field + ".command", "'" + e.command + "' is not one of: train, fit, tune, control");
    }
    if (body["config"]) {
      if (!body["config"].IsScalar()) fail(file, body["config"], field + ".config", "expected a file path");
      const fs::path p = body["config"].as<std::string>();
      e.config = (p.is_absolute() ? p : folder / p).lexically_normal().string();
      std::error_code ec;
      if (!fs::is_regular_file(e.config, ec)) fail(file, body["config"], field + ".config", "no such file: " + e.config);
    }
    const bool needs_config = !methods || e.command == "tune" || e.command == "control";
    if (needs_config && e.config.empty()) fail(file, body, field + ".config", "required");
    if (!needs_config && !e.config.empty()) {
      fail(file, body["config"], field + ".config", "a " + e.command + " method runs the task's config with its `set`; give no config");
    }
    e.sets = string_list(file, body["set"], field + ".set");
    const auto smoke_sets = string_list(file, body["smoke_set"], field + ".smoke_set");
    if (smoke) e.sets.insert(e.sets.end(), smoke_sets.begin(), smoke_sets.end());
    e.deploy_sets = string_list(file, body["deploy_set"], field + ".deploy_set");
    if (body["deploy_set"] && e.command != "control") {
      fail(file, body["deploy_set"], field + ".deploy_set", "only a control method deploys a policy; use `set`");
    }
    out.push_back(e);
  }
  return out;
}

nlohmann::json entry_json(const BenchEntry& e) {
  return {{"name", e.name}, {"command", e.command}, {"config", e.config}, {"set", e.sets}, {"deploy_set", e.deploy_sets}};
}

// A plan saved before control methods existed has no deploy_set.
BenchEntry entry_from(const nlohmann::json& j) {
  return {j.at("name").get<std::string>(), j.at("command").get<std::string>(), j.at("config").get<std::string>(),
          j.at("set").get<std::vector<std::string>>(), j.value("deploy_set", std::vector<std::string>{})};
}

}  // namespace

BenchPlan load_bench_plan(const std::string& path, bool smoke) {
  static const core::ConfigSchema schema = bench_schema();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw core::UserError(path + ": no such file (a BENCH.yaml)");
  const core::Config config = core::Config::load(path, schema);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw core::ConfigError(path + ": malformed YAML: " + e.msg);
  }
  BenchPlan plan;
  plan.source = fs::absolute(path).lexically_normal().string();
  plan.smoke = smoke;
  plan.methods = entries(path, root, "methods", smoke);
  plan.tasks = entries(path, root, "tasks", smoke);
  const auto first = config.get_int("first_seed");
  const auto count = config.get_int(smoke ? "smoke.seeds" : "seeds");
  for (long long s = 0; s < count; ++s) plan.seeds.push_back(first + s);
  plan.baseline = config.get_string("baseline");
  if (plan.baseline.empty()) plan.baseline = plan.methods.front().name;
  bool known = false;
  for (const auto& m : plan.methods) known = known || m.name == plan.baseline;
  if (!known) config.fail("baseline", "'" + plan.baseline + "' is not one of the methods");
  plan.score = config.get_string("score");
  plan.eval_episodes = static_cast<int>(config.get_int(smoke ? "smoke.eval_episodes" : "eval_episodes"));
  plan.maximize = config.get_bool("maximize");
  plan.budget = config.get_int(smoke ? "smoke.budget" : "budget");
  plan.budget_tolerance = config.get_float("budget_tolerance");
  plan.parallel = static_cast<int>(config.get_int("parallel"));
  plan.replicates = static_cast<int>(config.get_int("bootstrap.replicates"));
  plan.bootstrap_seed = static_cast<std::uint64_t>(config.get_int("bootstrap.seed"));
  return plan;
}

nlohmann::json BenchPlan::to_json() const {
  nlohmann::json j;
  j["source"] = source;
  j["smoke"] = smoke;
  j["methods"] = nlohmann::json::array();
  for (const auto& m : methods) j["methods"].push_back(entry_json(m));
  j["tasks"] = nlohmann::json::array();
  for (const auto& t : tasks) j["tasks"].push_back(entry_json(t));
  j["seeds"] = seeds;
  j["baseline"] = baseline;
  j["score"] = score;
  j["eval_episodes"] = eval_episodes;
  j["maximize"] = maximize;
  j["budget"] = budget;
  j["budget_tolerance"] = budget_tolerance;
  j["parallel"] = parallel;
  j["replicates"] = replicates;
  j["bootstrap_seed"] = bootstrap_seed;
  return j;
}

BenchPlan BenchPlan::from_json(const nlohmann::json& j) {
  BenchPlan p;
  p.source = j.at("source").get<std::string>();
  p.smoke = j.at("smoke").get<bool>();
  for (const auto& m : j.at("methods")) p.methods.push_back(entry_from(m));
  for (const auto& t : j.at("tasks")) p.tasks.push_back(entry_from(t));
  p.seeds = j.at("seeds").get<std::vector<std::int64_t>>();
  p.baseline = j.at("baseline").get<std::string>();
  p.score = j.at("score").get<std::string>();
  p.eval_episodes = j.at("eval_episodes").get<int>();
  p.maximize = j.at("maximize").get<bool>();
  p.budget = j.at("budget").get<std::int64_t>();
  p.budget_tolerance = j.at("budget_tolerance").get<double>();
  p.parallel = j.at("parallel").get<int>();
  p.replicates = j.at("replicates").get<int>();
  p.bootstrap_seed = j.at("bootstrap_seed").get<std::uint64_t>();
  return p;
}

}  // namespace graybox::apps
