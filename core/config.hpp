// Config: a YAML file (plus `--set key=value` overrides) checked against a ConfigSchema.
// Every error names the file, line and column of the offending key and, for a misspelled key,
// suggests the closest known one. Values not given take the schema's documented default; the
// resolved config (every key, defaults filled in) can be written back as YAML.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/config_schema.hpp"
#include "core/error.hpp"

namespace graybox::core {

// "" if `text` is a valid value of `field` (type, range, choices), else the problem, e.g.
// "value 2 is out of range (must be in [0, 1])". For a list field, checks one element.
std::string check_value(const ConfigField& field, const std::string& text);
// The field's range as text: "in [0, 1]", ">= 1", or "" for no bounds.
std::string describe_range(const ConfigField& field);

class Config {
 public:
  // Reads `path`, applies overrides ("a.b=value"), validates. Throws ConfigError.
  static Config load(const std::string& path, const ConfigSchema& schema,
                     const std::vector<std::string>& overrides = {});
  // The same from YAML text; `name` stands in for the file name in messages.
  static Config parse(const std::string& yaml_text, const std::string& name,
                      const ConfigSchema& schema, const std::vector<std::string>& overrides = {});

  long long get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  std::vector<long long> get_int_list(const std::string& key) const;

  // Free-form numeric keys under an open prefix, e.g. {"forward_reward_weight": 1.0} for "env.".
  std::map<std::string, double> open_values(const std::string& prefix) const;

  // A key's value as text, whatever its type: the scalar, or "[a, b]" for a list.
  std::string text(const std::string& key) const;

  // Where a key's value came from: "FILE:LINE:COL", "--set KEY" or "default".
  std::string where(const std::string& key) const;
  // Throws ConfigError "WHERE: KEY: message".
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

  // Changes a value (validated as a --set would be); used by controllers and replay.
  void set(const std::string& key, const std::string& value);

  // The resolved config as YAML: every schema key in schema order, with its doc as a comment.
  std::string to_yaml() const;
  const std::string& source_name() const { return source_name_; }
  const ConfigSchema& schema() const { return *schema_; }

 private:
  struct Entry {
    std::string text;                // scalar text (a list is stored as its elements)
    std::vector<std::string> items;  // for list values
    std::string where;               // see where()
  };
  Config(const ConfigSchema& schema, std::string source_name);
  // The field of `key` this config holds: its variant chosen by the current selector values.
  const ConfigField* active_field(const std::string& key) const;
  // Fills the defaults of the variant keys the selectors choose and drops the others' values.
  void apply_variant_defaults();
  static Entry default_entry(const ConfigField& field);
  void assign(const std::string& key, Entry entry);
  Entry override_entry(const std::string& assignment, std::string& key) const;
  void apply_override(const std::string& assignment);
  const Entry& entry(const std::string& key, FieldType expected) const;

  const ConfigSchema* schema_;
  std::string source_name_;
  std::map<std::string, Entry> values_;
};

}  // namespace graybox::core
