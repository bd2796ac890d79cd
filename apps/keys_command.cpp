// `graybox keys [train|fit|tune|control|bench] [--json]`: every config key of a command's schema with its
// type, default, range or choices and one-line doc, as a table or as JSON.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/bench_plan.hpp"
#include "apps/commands.hpp"
#include "core/config.hpp"
#include "core/error.hpp"

namespace graybox::apps {
namespace {

const char* type_word(core::FieldType type) {
  switch (type) {
    case core::FieldType::kInt: return "int";
    case core::FieldType::kFloat: return "float";
    case core::FieldType::kBool: return "bool";
    case core::FieldType::kString: return "string";
    case core::FieldType::kIntList: return "int list";
  }
  return "?";
}

// The allowed values as text: a range, the choices, or "path".
std::string allowed(const core::ConfigField& field) {
  if (!field.choices.empty()) {
    std::string list;
    for (const auto& c : field.choices) list += (list.empty() ? "" : ", ") + c;
    return "one of: " + list;
  }
  if (field.path) return "a path (relative to the file that names it)";
  return core::describe_range(field);
}

}  // namespace

int keys_command(const std::string& command, bool json) {
  std::vector<std::pair<std::string, core::ConfigSchema>> schemas;
  if (command.empty() || command == "train") schemas.emplace_back("train", train_schema());
  if (command.empty() || command == "fit") schemas.emplace_back("fit", fit_schema());
  if (command.empty() || command == "tune") schemas.emplace_back("tune", tune_schema());
  if (command.empty() || command == "control") schemas.emplace_back("control", control_train_schema());
  if (command.empty() || command == "bench") schemas.emplace_back("bench", bench_schema());
  if (schemas.empty()) throw core::UserError("keys: '" + command + "' is not one of: train, fit, tune, control, bench");
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, schema] : schemas) {
    nlohmann::json list = nlohmann::json::array();
    std::size_t width = 0;
    for (const auto& f : schema.fields()) width = std::max(width, f.key.size());
    if (name == "bench") {
      for (const auto& f : bench_entry_fields()) width = std::max(width, f.key.size());
    }
    if (!json) std::printf("%sgraybox %s keys:\n", name == schemas.front().first ? "" : "\n", name.c_str());
    for (const auto& f : schema.fields()) {
      if (json) {
        nlohmann::json k = {{"key", f.key}, {"type", type_word(f.type)}, {"default", f.default_value}, {"doc", f.doc}};
        if (f.min) k["min"] = *f.min;
        if (f.max) k["max"] = *f.max;
        if (f.min_exclusive) k["min_exclusive"] = true;
        if (!f.choices.empty()) k["choices"] = f.choices;
        if (f.path) k["path"] = true;
        if (!f.when_key.empty()) k["when"] = {{"key", f.when_key}, {"values", f.when_values}};
        list.push_back(k);
        continue;
      }
      const std::string range = allowed(f);
      std::string when;  // a key of a variant, e.g. only for agent.algo sac, td3
      for (const auto& v : f.when_values) when += (when.empty() ? " [" + f.when_key + ": " : ", ") + v;
      if (!when.empty()) when += "]";
      std::printf("  %-*s  %-8s  %-12s  %s%s%s\n", static_cast<int>(width), f.key.c_str(), type_word(f.type),
                  f.default_value.empty() ? "\"\"" : f.default_value.c_str(), f.doc.c_str(),
                  range.empty() ? "" : (" (" + range + ")").c_str(), when.c_str());
    }
    if (name == "bench") {  // the fields of each entry under methods: and tasks:
      for (const auto& f : bench_entry_fields()) {
        if (json) {
          list.push_back({{"key", f.key}, {"type", "entry field"}, {"default", f.default_value}, {"doc", f.doc}});
        } else {
          std::printf("  %-*s  %-8s  %-12s  %s\n", static_cast<int>(width), f.key.c_str(), "entry", f.default_value.c_str(), f.doc.c_str());
        }
      }
    }
    out[name] = list;
  }
  if (json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace graybox::apps
