#include "core/config.hpp"

#include "core/yaml.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace graybox::core {
namespace {

std::string position(const std::string& name, const YAML::Mark& mark) {
  if (mark.is_null()) return name;
  return name + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

bool parse_double(const std::string& text, double& out) {
  if (text.empty()) return false;
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  out = std::strtod(begin, &end);
  return end == begin + text.size() && errno == 0 && std::isfinite(out);
}

bool parse_int(const std::string& text, long long& out) {
  double value = 0;
  if (!parse_double(text, value)) return false;
  // Accept 1e6 and 100000.0 for integer keys, but not 2.5.
  if (value != std::floor(value) || std::fabs(value) > 9.0e15) return false;
  out = static_cast<long long>(value);
  return true;
}

bool parse_bool(const std::string& text, bool& out) {
  if (text == "true" || text == "True" || text == "TRUE") return out = true, true;
  if (text == "false" || text == "False" || text == "FALSE") return out = false, true;
  return false;
}

}  // namespace

std::string describe_range(const ConfigField& field) {
  std::ostringstream text;
  if (field.min && field.max) {
    text << "in " << (field.min_exclusive ? "(" : "[") << *field.min << ", " << *field.max << "]";
  } else if (field.min) {
    text << (field.min_exclusive ? "> " : ">= ") << *field.min;
  } else if (field.max) {
    text << "<= " << *field.max;
  }
  return text.str();
}

namespace {

// Checks one scalar against its field; returns "" or the problem.
std::string check_scalar(const ConfigField& field, const std::string& text, bool list_item) {
  const FieldType type = list_item ? FieldType::kInt : field.type;
  double number = 0;
  switch (type) {
    case FieldType::kInt: {
      long long value = 0;
      if (parse_int(text, value)) {
        number = static_cast<double>(value);
      } else if (parse_double(text, number) && number == std::floor(number)) {
        number = std::copysign(HUGE_VAL, number);  // a whole number too large for an integer key
      } else {
        return "expected an integer, got '" + text + "'";
      }
      break;
    }
    case FieldType::kFloat:
      if (!parse_double(text, number)) return "expected a finite number, got '" + text + "'";
      break;
    case FieldType::kBool: {
      bool value = false;
      if (!parse_bool(text, value)) return "expected true or false, got '" + text + "'";
      return "";
    }
    case FieldType::kString:
      if (!field.choices.empty()) {
        for (const auto& choice : field.choices) {
          if (choice == text) return "";
        }
        std::string list;
        for (const auto& choice : field.choices) list += (list.empty() ? "" : ", ") + choice;
        return "'" + text + "' is not one of: " + list;
      }
      return "";
    case FieldType::kIntList:
      return "expected a list of integers";
  }
  const bool below = field.min && (field.min_exclusive ? number <= *field.min : number < *field.min);
  const bool above = (field.max && number > *field.max) || std::isinf(number);
  if (above && !field.max) return "value " + text + " is out of range (an integer key holds at most 9e15)";
  if (below || above) return "value " + text + " is out of range (must be " + describe_range(field) + ")";
  return "";
}

void walk(const YAML::Node& node, const std::string& prefix, const std::string& name,
          const ConfigSchema& schema, std::set<std::string>& seen,
          const std::function<void(const std::string&, const YAML::Node&, const YAML::Mark&)>& leaf) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key_node = it->first;  // a copy: the iterator hands out a temporary
    const YAML::Node value = it->second;
    if (!key_node.IsScalar()) {
      throw ConfigError(position(name, key_node.Mark()) + ": a key must be a plain name");
    }
    const std::string key = prefix + key_node.Scalar();
    if (schema.is_raw_section(key)) continue;
    if (!seen.insert(key).second) {
      throw ConfigError(position(name, key_node.Mark()) + ": duplicate key '" + key + "'");
    }
    const bool is_section = std::any_of(
        schema.fields().begin(), schema.fields().end(),
        [&](const ConfigField& f) { return f.key.compare(0, key.size() + 1, key + ".") == 0; });
    if (value.IsMap() && (is_section || schema.is_open(key + ".x"))) {
      walk(value, key + ".", name, schema, seen, leaf);
    } else if (is_section && value.IsNull()) {
      continue;  // an empty section, e.g. "agent:" with nothing under it
    } else {
      leaf(key, value, key_node.Mark());
    }
  }
}

}  // namespace

std::string check_value(const ConfigField& field, const std::string& text) {
  return check_scalar(field, text, field.type == FieldType::kIntList);
}

Config::Entry Config::default_entry(const ConfigField& field) {
  Entry entry;
  entry.where = "default";
  if (field.type == FieldType::kIntList) {
    const YAML::Node list = YAML::Load(field.default_value.empty() ? "[]" : field.default_value);
    for (const auto& item : list) entry.items.push_back(item.Scalar());
  } else {
    entry.text = field.default_value;
  }
  return entry;
}

Config::Config(const ConfigSchema& schema, std::string source_name)
    : schema_(&schema), source_name_(std::move(source_name)) {
  for (const auto& field : schema.fields()) {
    if (field.when_key.empty()) values_[field.key] = default_entry(field);
  }
  apply_variant_defaults();
}

const ConfigField* Config::active_field(const std::string& key) const {
  return schema_->find_active(key, [this](const std::string& selector) {
    const auto it = values_.find(selector);
    return it == values_.end() ? std::string() : it->second.text;
  });
}

void Config::apply_variant_defaults() {
  for (const auto& field : schema_->fields()) {
    if (field.when_key.empty()) continue;
    const ConfigField* active = active_field(field.key);
    if (!active) {
      values_.erase(field.key);
    } else if (active == &field) {
      const auto it = values_.find(field.key);
      if (it == values_.end() || it->second.where == "default") values_[field.key] = default_entry(field);
    }
  }
}

Config Config::load(const std::string& path, const ConfigSchema& schema,
                    const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ConfigError(path + ": is a directory, not a config file (give a YAML file, e.g. configs/quickstart.yaml)");
  }
  std::ifstream file(path);
  if (!file) throw ConfigError(path + ": cannot open the config file (does it exist?)");
  std::stringstream text;
  text << file.rdbuf();
  Config config = parse(text.str(), path, schema, overrides);
  // Relative paths in the file are relative to the file's folder (--set ones are already
  // resolved against the working directory).
  const std::filesystem::path folder = std::filesystem::absolute(path).parent_path();
  for (const auto& field : schema.fields()) {
    if (config.active_field(field.key) != &field) continue;
    Entry& entry = config.values_.at(field.key);
    if (!field.path || entry.text.empty() || entry.where == "default" || entry.where.rfind("--set ", 0) == 0) continue;
    if (std::filesystem::path(entry.text).is_relative()) entry.text = (folder / entry.text).lexically_normal().string();
  }
  return config;
}

Config Config::parse(const std::string& yaml_text, const std::string& name,
                     const ConfigSchema& schema, const std::vector<std::string>& overrides) {
  Config config(schema, name);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(position(name, e.mark) + ": malformed YAML: " + e.msg);
  }
  if (root.IsNull()) {
    // An empty file is a config of defaults only.
  } else if (!root.IsMap()) {
    throw ConfigError(position(name, root.Mark()) + ": the top level must be a mapping of keys");
  }
  // What the file and the overrides give, in order; the selectors (agent.algo) are assigned first
  // so that every other key is checked against the variant they choose.
  std::vector<std::pair<std::string, Entry>> given;
  if (root.IsMap()) {
    std::set<std::string> seen;
    walk(root, "", name, schema, seen,
         [&](const std::string& key, const YAML::Node& value, const YAML::Mark& mark) {
           const std::string where = position(name, mark);
           const ConfigField* field = schema.find(key);
           if (!field && !schema.is_open(key)) {
             const std::string hint = schema.closest_key(key);
             throw ConfigError(where + ": unknown key '" + key + "'" +
                               (hint.empty() ? std::string() : "; did you mean '" + hint + "'?"));
           }
           Entry entry;
           entry.where = where;
           if (field && field->type == FieldType::kIntList) {
             if (!value.IsSequence()) {
               throw ConfigError(where + ": " + key + ": expected a list of integers, e.g. [64, 64]");
             }
             for (const auto& item : value) {
               if (!item.IsScalar()) throw ConfigError(where + ": " + key + ": expected a list of integers");
               entry.items.push_back(item.Scalar());
             }
           } else {
             if (!value.IsScalar()) {
               throw ConfigError(where + ": " + key + ": expected " +
                                 field_type_name(field ? field->type : FieldType::kFloat) +
                                 (value.IsNull() ? ", got nothing" : ", got a list or mapping"));
             }
             entry.text = value.Scalar();
           }
           given.emplace_back(key, std::move(entry));
         });
  }
  for (const auto& assignment : overrides) {
    std::string key;
    Entry entry = config.override_entry(assignment, key);
    given.emplace_back(key, std::move(entry));
  }
  const auto is_selector = [&](const std::string& key) {
    return std::any_of(schema.fields().begin(), schema.fields().end(),
                       [&](const ConfigField& f) { return f.when_key == key; });
  };
  for (auto& [key, entry] : given) {
    if (is_selector(key)) config.assign(key, entry);
  }
  config.apply_variant_defaults();
  for (auto& [key, entry] : given) {
    if (!is_selector(key)) config.assign(key, std::move(entry));
  }
  return config;
}

void Config::assign(const std::string& key, Entry entry) {
  const ConfigField* field = active_field(key);
  if (!field && schema_->find(key)) {
    // A key of a variant that this config's selector does not choose.
    const ConfigField* any = schema_->find(key);
    std::string owners;
    for (const auto& f : schema_->fields()) {
      if (f.key != key) continue;
      for (const auto& v : f.when_values) owners += (owners.empty() ? "" : ", ") + v;
    }
    throw ConfigError(entry.where + ": " + key + ": a key of " + any->when_key + " " + owners + ", not of this config's " +
                      any->when_key + " " + values_.at(any->when_key).text);
  }
  std::string problem;
  if (field && field->type == FieldType::kIntList) {
    // An empty list is valid where the default is empty (e.g. no milestones), not elsewhere.
    const bool may_be_empty = field->default_value.find_first_of("0123456789") == std::string::npos;
    if (entry.items.empty() && !may_be_empty) problem = "expected a non-empty list of integers";
    for (const auto& item : entry.items) {
      if (problem.empty()) problem = check_scalar(*field, item, true);
    }
  } else if (field) {
    problem = check_scalar(*field, entry.text, false);
  } else {
    double number = 0;
    if (!parse_double(entry.text, number)) problem = "expected a finite number, got '" + entry.text + "'";
  }
  if (!problem.empty()) throw ConfigError(entry.where + ": " + key + ": " + problem);
  values_[key] = std::move(entry);
}

Config::Entry Config::override_entry(const std::string& assignment, std::string& key_out) const {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("--set '" + assignment + "': expected KEY=VALUE, e.g. agent.learning_rate=1e-3");
  }
  const std::string key = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  const ConfigField* field = schema_->find(key);
  if (!field && !schema_->is_open(key)) {
    const std::string hint = schema_->closest_key(key);
    throw ConfigError("--set " + key + ": unknown key" +
                      (hint.empty() ? std::string() : "; did you mean '" + hint + "'?"));
  }
  Entry entry;
  entry.where = "--set " + key;
  if (field && field->type == FieldType::kIntList) {
    YAML::Node list;
    try {
      list = YAML::Load(value);
    } catch (const YAML::Exception& e) {
      throw ConfigError("--set " + key + ": malformed list '" + value + "'");
    }
    if (!list.IsSequence()) throw ConfigError("--set " + key + ": expected a list such as [64,64]");
    for (const auto& item : list) entry.items.push_back(item.Scalar());
  } else if (field && field->path && !value.empty()) {
    entry.text = std::filesystem::absolute(value).lexically_normal().string();
  } else {
    entry.text = value;
  }
  key_out = key;
  return entry;
}

void Config::apply_override(const std::string& assignment) {
  std::string key;
  Entry entry = override_entry(assignment, key);
  assign(key, std::move(entry));
  apply_variant_defaults();  // a changed selector brings its variant's keys
}

void Config::set(const std::string& key, const std::string& value) { apply_override(key + "=" + value); }

const Config::Entry& Config::entry(const std::string& key, FieldType expected) const {
  const ConfigField* field = schema_->find(key);
  if (field && field->type != expected) {
    throw std::logic_error("config key '" + key + "' read as the wrong type");
  }
  const auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error("config key '" + key + "' is not in the schema");
  return it->second;
}

long long Config::get_int(const std::string& key) const {
  long long value = 0;
  parse_int(entry(key, FieldType::kInt).text, value);
  return value;
}

double Config::get_float(const std::string& key) const {
  double value = 0;
  parse_double(entry(key, FieldType::kFloat).text, value);
  return value;
}

bool Config::get_bool(const std::string& key) const {
  bool value = false;
  parse_bool(entry(key, FieldType::kBool).text, value);
  return value;
}

const std::string& Config::get_string(const std::string& key) const {
  return entry(key, FieldType::kString).text;
}

std::vector<long long> Config::get_int_list(const std::string& key) const {
  std::vector<long long> out;
  for (const auto& item : entry(key, FieldType::kIntList).items) {
    long long value = 0;
    parse_int(item, value);
    out.push_back(value);
  }
  return out;
}

std::map<std::string, double> Config::open_values(const std::string& prefix) const {
  std::map<std::string, double> out;
  for (const auto& [key, entry] : values_) {
    if (schema_->find(key) || key.compare(0, prefix.size(), prefix) != 0) continue;
    double value = 0;
    parse_double(entry.text, value);
    out[key.substr(prefix.size())] = value;
  }
  return out;
}

std::string Config::text(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error("config key '" + key + "' is not in the schema");
  const ConfigField* field = schema_->find(key);
  if (!field || field->type != FieldType::kIntList) return it->second.text;
  std::string list;
  for (const auto& item : it->second.items) list += (list.empty() ? "" : ", ") + item;
  return "[" + list + "]";
}

std::string Config::where(const std::string& key) const {
  const auto it = values_.find(key);
  return it == values_.end() ? "default" : it->second.where;
}

void Config::fail(const std::string& key, const std::string& message) const {
  const std::string origin = where(key);
  throw ConfigError((origin == "default" ? source_name_ : origin) + ": " + key + ": " + message);
}

std::string Config::to_yaml() const {
  // Group keys into nested sections, keeping the schema's order (then open keys).
  std::vector<std::string> keys;
  for (const auto& field : schema_->fields()) {
    if (active_field(field.key) == &field) keys.push_back(field.key);  // one variant of each key
  }
  for (const auto& [key, entry] : values_) {
    if (!schema_->find(key)) keys.push_back(key);
  }
  YAML::Emitter out;
  out << YAML::BeginMap;
  std::vector<std::string> open_sections;
  const auto split = [](const std::string& key) {
    std::vector<std::string> parts;
    std::stringstream stream(key);
    for (std::string part; std::getline(stream, part, '.');) parts.push_back(part);
    return parts;
  };
  // Emit section by section: collect keys per top-level path in first-seen order.
  std::function<void(const std::vector<std::string>&, std::size_t)> emit =
      [&](const std::vector<std::string>& group, std::size_t depth) {
        std::vector<std::string> order;
        std::map<std::string, std::vector<std::string>> children;
        for (const auto& key : group) {
          const auto parts = split(key);
          const std::string head = parts[depth];
          if (!children.count(head)) order.push_back(head);
          children[head].push_back(key);
        }
        for (const auto& head : order) {
          const auto& members = children[head];
          const auto parts = split(members.front());
          if (members.size() == 1 && parts.size() == depth + 1) {
            const std::string& key = members.front();
            const Entry& entry = values_.at(key);
            const ConfigField* field = active_field(key);
            out << YAML::Key << head << YAML::Value;
            if (field && field->type == FieldType::kIntList) {
              out << YAML::Flow << YAML::BeginSeq;
              for (const auto& item : entry.items) out << item;
              out << YAML::EndSeq;
            } else if (field && field->type == FieldType::kString) {
              out << YAML::DoubleQuoted << entry.text;
            } else {
              out << entry.text;
            }
            if (field && !field->doc.empty()) out << YAML::Comment(field->doc);
          } else {
            out << YAML::Key << head << YAML::Value << YAML::BeginMap;
            emit(members, depth + 1);
            out << YAML::EndMap;
          }
        }
      };
  emit(keys, 0);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace graybox::core
