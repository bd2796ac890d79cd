// ConfigSchema: every key a config file may hold, with its type, default, range and a one-line
// doc. The schema is the single source of truth for validation, `--set`, the resolved
// config.yaml and `graybox keys`.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace graybox::core {

enum class FieldType { kInt, kFloat, kBool, kString, kIntList };

const char* field_type_name(FieldType type);

struct ConfigField {
  std::string key;            // dotted path, e.g. "agent.learning_rate"
  FieldType type = FieldType::kFloat;
  std::string default_value;  // as YAML text; "" for a string means empty
  std::string doc;            // one line
  std::optional<double> min;  // inclusive bounds for numbers (list elements too)
  std::optional<double> max;
  bool min_exclusive = false;
  std::vector<std::string> choices;  // allowed values for a string
  // A file or folder path (a string). A relative path in a config file is relative to that
  // file's folder; one given with --set, to the working directory. Stored absolute.
  bool path = false;
  // A key of a variant: it exists only while the config's value of the string key `when_key`
  // (declared before it) is one of `when_values`, e.g. agent.tau only for agent.algo sac or td3.
  // One key may have several variants (disjoint values, one type) with their own defaults,
  // ranges and docs. Empty: the key always exists.
  std::string when_key;
  std::vector<std::string> when_values;
};

class ConfigSchema {
 public:
  ConfigField& add(ConfigField field);
  // Shorthands that read like a table of defaults.
  ConfigField& add_int(const std::string& key, long long def, const std::string& doc,
                       std::optional<double> min = std::nullopt,
                       std::optional<double> max = std::nullopt);
  ConfigField& add_float(const std::string& key, double def, const std::string& doc,
                         std::optional<double> min = std::nullopt,
                         std::optional<double> max = std::nullopt);
  ConfigField& add_bool(const std::string& key, bool def, const std::string& doc);
  ConfigField& add_string(const std::string& key, const std::string& def, const std::string& doc,
                          std::vector<std::string> choices = {});
  ConfigField& add_int_list(const std::string& key, const std::string& def,
                            const std::string& doc, std::optional<double> min = std::nullopt,
                            std::optional<double> max = std::nullopt);
  // Keys added until end_variant() belong to the variant `key` in `values` (ConfigField::when_key).
  void begin_variant(const std::string& key, std::vector<std::string> values);
  void end_variant();
  // The variant of `key` that a config whose selector keys read `value_of` holds, or null
  // (also for a key of no variant not in the schema).
  template <typename ValueOf>
  const ConfigField* find_active(const std::string& key, const ValueOf& value_of) const {
    for (const auto& field : fields_) {
      if (field.key != key) continue;
      if (field.when_key.empty()) return &field;
      const std::string value = value_of(field.when_key);
      for (const auto& v : field.when_values) {
        if (v == value) return &field;
      }
    }
    return nullptr;
  }
  // A path key (see ConfigField::path); "" means none.
  ConfigField& add_path(const std::string& key, const std::string& doc);
  // Makes existing string keys path keys (for keys declared by a part that knows nothing of
  // files, such as a task's schema). Throws std::logic_error for a key not in the schema.
  void mark_paths(const std::vector<std::string>& keys);
  // Keys under this prefix (e.g. "env.") that are not in the schema are accepted as
  // free-form numbers and validated later by whoever consumes them (e.g. task parameters).
  void allow_open_prefix(const std::string& prefix);
  // A top-level key whose whole value is read by someone else (e.g. `search_space`); the
  // config skips it.
  void allow_raw_section(const std::string& key);
  bool is_raw_section(const std::string& key) const;

  const ConfigField* find(const std::string& key) const;
  bool is_open(const std::string& key) const;
  const std::vector<ConfigField>& fields() const { return fields_; }
  // The known key closest to `key` by edit distance, or "" if none is close.
  std::string closest_key(const std::string& key) const;

 private:
  std::vector<ConfigField> fields_;
  std::vector<std::string> open_prefixes_;
  std::vector<std::string> raw_sections_;
  std::string variant_key_;
  std::vector<std::string> variant_values_;
};

// Edit distance (insert, delete, substitute), for "did you mean" hints.
std::size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace graybox::core
