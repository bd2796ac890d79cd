#include "core/config_schema.hpp"

#include <algorithm>
#include <sstream>
#include <string>
#include <stdexcept>

namespace graybox::core {

const char* field_type_name(FieldType type) {
  switch (type) {
    case FieldType::kInt: return "an integer";
    case FieldType::kFloat: return "a number";
    case FieldType::kBool: return "true or false";
    case FieldType::kString: return "a string";
    case FieldType::kIntList: return "a list of integers";
  }
  return "?";
}

ConfigField& ConfigSchema::add(ConfigField field) {
  if (!variant_key_.empty()) {
    field.when_key = variant_key_;
    field.when_values = variant_values_;
  }
  for (const auto& other : fields_) {
    if (other.key == field.key && (other.when_key.empty() || field.when_key.empty() || other.type != field.type)) {
      throw std::logic_error("schema: key " + field.key + " declared twice (variants need a selector and one type)");
    }
  }
  fields_.push_back(std::move(field));
  return fields_.back();
}

ConfigField& ConfigSchema::add_int(const std::string& key, long long def, const std::string& doc,
                                   std::optional<double> min, std::optional<double> max) {
  return add({key, FieldType::kInt, std::to_string(def), doc, min, max, false, {}, false, {}, {}});
}

ConfigField& ConfigSchema::add_float(const std::string& key, double def, const std::string& doc,
                                     std::optional<double> min, std::optional<double> max) {
  // The shortest text that reads back as the same double (3e-4 is "0.0003", not 0.00029999...).
  std::string shortest;
  for (int digits = 15; digits <= 17; ++digits) {
    std::ostringstream text;
    text.precision(digits);
    text << def;
    shortest = text.str();
    if (std::stod(shortest) == def) break;
  }
  return add({key, FieldType::kFloat, shortest, doc, min, max, false, {}, false, {}, {}});
}

ConfigField& ConfigSchema::add_bool(const std::string& key, bool def, const std::string& doc) {
  return add({key, FieldType::kBool, def ? "true" : "false", doc, {}, {}, false, {}, false, {}, {}});
}

ConfigField& ConfigSchema::add_string(const std::string& key, const std::string& def,
                                      const std::string& doc, std::vector<std::string> choices) {
  return add({key, FieldType::kString, def, doc, {}, {}, false, std::move(choices), false, {}, {}});
}

ConfigField& ConfigSchema::add_int_list(const std::string& key, const std::string& def,
                                        const std::string& doc, std::optional<double> min,
                                        std::optional<double> max) {
  return add({key, FieldType::kIntList, def, doc, min, max, false, {}, false, {}, {}});
}

ConfigField& ConfigSchema::add_path(const std::string& key, const std::string& doc) {
  ConfigField& field = add({key, FieldType::kString, "", doc, {}, {}, false, {}, false, {}, {}});
  field.path = true;
  return field;
}

void ConfigSchema::mark_paths(const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    const auto it = std::find_if(fields_.begin(), fields_.end(), [&](const ConfigField& f) { return f.key == key; });
    if (it == fields_.end() || it->type != FieldType::kString) throw std::logic_error("mark_paths: no string key " + key);
    it->path = true;
  }
}

void ConfigSchema::begin_variant(const std::string& key, std::vector<std::string> values) {
  const ConfigField* selector = find(key);
  if (!selector || selector->type != FieldType::kString || !selector->when_key.empty()) {
    throw std::logic_error("schema: variant selector " + key + " is not a string key of no variant");
  }
  variant_key_ = key;
  variant_values_ = std::move(values);
}

void ConfigSchema::end_variant() {
  variant_key_.clear();
  variant_values_.clear();
}

void ConfigSchema::allow_open_prefix(const std::string& prefix) { open_prefixes_.push_back(prefix); }

void ConfigSchema::allow_raw_section(const std::string& key) { raw_sections_.push_back(key); }

bool ConfigSchema::is_raw_section(const std::string& key) const {
  return std::find(raw_sections_.begin(), raw_sections_.end(), key) != raw_sections_.end();
}

const ConfigField* ConfigSchema::find(const std::string& key) const {
  for (const auto& field : fields_) {
    if (field.key == key) return &field;
  }
  return nullptr;
}

bool ConfigSchema::is_open(const std::string& key) const {
  return std::any_of(open_prefixes_.begin(), open_prefixes_.end(), [&](const std::string& p) {
    return key.size() > p.size() && key.compare(0, p.size(), p) == 0;
  });
}

std::string ConfigSchema::closest_key(const std::string& key) const {
  std::string best;
  std::size_t best_distance = SIZE_MAX;
  // Compare against the full key and against its last component, so that both a typo and a
  // key put in the wrong section find their match.
  const auto last = [](const std::string& k) {
    const auto dot = k.rfind('.');
    return dot == std::string::npos ? k : k.substr(dot + 1);
  };
  for (const auto& field : fields_) {
    const std::size_t d = std::min(edit_distance(key, field.key),
                                   edit_distance(last(key), last(field.key)) + 1);
    if (d < best_distance) {
      best_distance = d;
      best = field.key;
    }
  }
  const std::size_t limit = std::max<std::size_t>(2, last(key).size() / 3);
  return best_distance <= limit ? best : std::string();
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace graybox::core
