// SearchSpace: the hyperparameters a controller may choose, each a Dimension over a config key
// (e.g. "agent.learning_rate"): float or int (linear or log scale), categorical, or fixed, and
// optionally active only when another dimension has one of some values. Every controller works
// on the unit cube: encode() maps a configuration to [0,1]^d (log-aware), decode() maps back.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config_schema.hpp"
#include "core/rng.hpp"

namespace YAML {
class Node;
}

namespace graybox::core {

enum class DimensionType { kFloat, kInt, kCategorical, kFixed };

struct Dimension {
  std::string name;  // a config key of the task
  DimensionType type = DimensionType::kFloat;
  double low = 0.0, high = 1.0;  // float and int
  bool log = false;
  std::vector<std::string> choices;  // categorical (as YAML scalars); fixed: one value
  // Active only when `parent` takes one of `parent_values` (empty parent: always active).
  std::string parent;
  std::vector<std::string> parent_values;

  std::size_t cardinality() const;  // choices for categorical/fixed, 0 for numbers
};

// A point of the space: one value per dimension, in the space's order. Numbers are stored as
// values; categorical and fixed values as the index of the choice. Inactive dimensions hold
// NaN.
struct Configuration {
  std::vector<double> values;
  bool operator==(const Configuration& other) const;
};

// The values as a JSON array (inactive values as null), for saved controller and population state.
nlohmann::json values_to_json(const Configuration& c);
Configuration values_from_json(const nlohmann::json& j);

class SearchSpace {
 public:
  SearchSpace() = default;
  explicit SearchSpace(std::vector<Dimension> dims);

  // Parses a `search_space:` mapping; errors (ConfigError) name file:line:col and the field.
  // With `keys`, every dimension must name one of its fields (an unknown key gets the closest
  // known one as a hint).
  static SearchSpace from_yaml(const YAML::Node& node, const std::string& file,
                               const ConfigSchema* keys = nullptr);

  const std::vector<Dimension>& dims() const { return dims_; }
  std::size_t size() const { return dims_.size(); }
  int index_of(const std::string& name) const;  // -1 if absent

  bool active(const Configuration& c, std::size_t i) const;
  Configuration sample(Rng& rng) const;
  // Unit-cube coordinates: floats and ints map log-aware to [0,1]; a categorical maps its
  // index to the centre of its cell ((k + 0.5) / K); fixed and inactive dimensions give 0.5.
  std::vector<double> encode(const Configuration& c) const;
  Configuration decode(const std::vector<double>& u) const;  // clamps and rounds
  // Every combination, with `points` values per numeric dimension (log-aware).
  std::vector<Configuration> grid(int points) const;

  // The value of dimension i as YAML scalar text (for --set style overrides and best.yaml).
  std::string text(const Configuration& c, std::size_t i) const;
  // "key=value" for every active dimension.
  std::vector<std::string> overrides(const Configuration& c) const;
  // {name: value} with numbers as numbers, for JSON.
  std::string to_json(const Configuration& c) const;
  Configuration from_json(const std::string& json) const;

 private:
  void fix_inactive(Configuration& c) const;
  std::vector<Dimension> dims_;
};

}  // namespace graybox::core
