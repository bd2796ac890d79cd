#include "core/search_space.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/config.hpp"
#include "core/config_schema.hpp"
#include "core/error.hpp"
#include "core/yaml.hpp"

namespace graybox::core {
namespace {

std::string where(const std::string& file, const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  if (m.is_null()) return file;
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

double number_of(const YAML::Node& node, const std::string& file, const std::string& field) {
  if (!node.IsScalar()) throw ConfigError(where(file, node) + ": " + field + ": expected a number");
  const std::string text = node.Scalar();
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value)) {
    throw ConfigError(where(file, node) + ": " + field + ": expected a finite number, got '" + text + "'");
  }
  return value;
}

std::string format_number(double v) {
  std::ostringstream out;
  out.precision(12);
  out << v;
  return out.str();
}

// Unit-cube transforms of one numeric dimension.
double to_unit(const Dimension& d, double v) {
  double lo = d.low, hi = d.high;
  if (d.type == DimensionType::kInt) lo -= 0.5, hi += 0.5;
  if (d.log) return (std::log(v) - std::log(lo)) / (std::log(hi) - std::log(lo));
  return (v - lo) / (hi - lo);
}

double from_unit(const Dimension& d, double u) {
  u = std::clamp(u, 0.0, 1.0);
  double lo = d.low, hi = d.high;
  if (d.type == DimensionType::kInt) lo -= 0.5, hi += 0.5;
  double v = d.log ? std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo))) : lo + u * (hi - lo);
  if (d.type == DimensionType::kInt) v = std::clamp(std::round(v), d.low, d.high);
  return std::clamp(v, d.low, d.high);
}

// A dimension against the schema of the key it sets: its kind must suit the key's type, and
// every value it can take must be one the key accepts.
void check_against_key(const Dimension& d, const ConfigField& key, const YAML::Node& spec, const std::string& file) {
  const std::string field = "search_space." + d.name;
  const std::string at = where(file, spec);
  const std::string range = describe_range(key);
  const std::string allowed = "the key " + d.name + " is " + field_type_name(key.type) +
                              (range.empty() ? std::string() : " " + range);
  if (d.type == DimensionType::kFloat || d.type == DimensionType::kInt) {
    if (key.type != FieldType::kFloat && key.type != FieldType::kInt) {
      throw ConfigError(at + ": " + field + ": a " + (d.type == DimensionType::kFloat ? "float" : "int") +
                        " dimension, but " + allowed + " (use categorical or fixed)");
    }
    if (key.type == FieldType::kInt && d.type == DimensionType::kFloat) {
      throw ConfigError(at + ": " + field + ": a float dimension, but " + allowed + " (use type: int)");
    }
    for (const char* end : {"low", "high"}) {
      const std::string problem = check_value(key, format_number(std::string(end) == "low" ? d.low : d.high));
      if (!problem.empty()) {
        throw ConfigError(where(file, spec[end]) + ": " + field + "." + end + ": " + problem + " for " + d.name);
      }
    }
    return;
  }
  if (key.type == FieldType::kIntList) return;  // list values are checked when a trial's config loads
  for (std::size_t i = 0; i < d.choices.size(); ++i) {
    const std::string problem = check_value(key, d.choices[i]);
    if (!problem.empty()) {
      const YAML::Node node = d.type == DimensionType::kCategorical ? spec["choices"][i] : spec["value"] ? spec["value"] : spec;
      throw ConfigError(where(file, node) + ": " + field + ": " + problem + " (" + allowed + ")");
    }
  }
}

}  // namespace

std::size_t Dimension::cardinality() const {
  return (type == DimensionType::kCategorical || type == DimensionType::kFixed) ? choices.size() : 0;
}

bool Configuration::operator==(const Configuration& other) const {
  if (values.size() != other.values.size()) return false;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const bool a = std::isnan(values[i]), b = std::isnan(other.values[i]);
    if (a != b || (!a && values[i] != other.values[i])) return false;
  }
  return true;
}

SearchSpace::SearchSpace(std::vector<Dimension> dims) : dims_(std::move(dims)) {}

SearchSpace SearchSpace::from_yaml(const YAML::Node& node, const std::string& file,
                                   const ConfigSchema* keys) {
  if (!node.IsMap() || node.size() == 0) {
    throw ConfigError(where(file, node) + ": search_space: expected a mapping of config keys to dimensions");
  }
  std::vector<Dimension> dims;
  std::vector<std::string> conditions;  // where each dimension's condition (or the dimension) is
  for (auto it = node.begin(); it != node.end(); ++it) {
    Dimension d;
    d.name = it->first.Scalar();
    const YAML::Node spec = it->second;  // a copy: the iterator hands out a temporary
    const std::string at = where(file, it->first);
    const std::string field = "search_space." + d.name;
    if (keys && !keys->find(d.name) && !keys->is_open(d.name)) {
      const std::string hint = keys->closest_key(d.name);
      throw ConfigError(at + ": " + field + ": '" + d.name + "' is not a key of the task's config" +
                        (hint.empty() ? std::string() : "; did you mean '" + hint + "'?"));
    }
    if (spec.IsScalar()) {  // a plain value: fixed
      d.type = DimensionType::kFixed;
      d.choices = {spec.Scalar()};
      if (const ConfigField* key = keys ? keys->find(d.name) : nullptr) check_against_key(d, *key, spec, file);
      conditions.push_back(at);
      dims.push_back(std::move(d));
      continue;
    }
    if (!spec.IsMap()) throw ConfigError(at + ": " + field + ": expected a value or a mapping such as {type: float, low: 0, high: 1}");
    static const std::vector<std::string> known = {"type", "low", "high", "log", "choices", "value", "condition"};
    for (auto f = spec.begin(); f != spec.end(); ++f) {
      const std::string key = f->first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string best;
        std::size_t best_d = 3;
        for (const auto& k : known) {
          if (edit_distance(key, k) < best_d) best_d = edit_distance(key, k), best = k;
        }
        throw ConfigError(where(file, f->first) + ": " + field + ": unknown field '" + key + "'" +
                          (best.empty() ? "" : "; did you mean '" + best + "'?"));
      }
    }
    if (!spec["type"]) throw ConfigError(at + ": " + field + ": missing 'type' (float, int, categorical or fixed)");
    const std::string type = spec["type"].Scalar();
    if (type == "float" || type == "int") {
      d.type = type == "float" ? DimensionType::kFloat : DimensionType::kInt;
      if (!spec["low"] || !spec["high"]) throw ConfigError(at + ": " + field + ": a " + type + " needs 'low' and 'high'");
      d.low = number_of(spec["low"], file, field + ".low");
      d.high = number_of(spec["high"], file, field + ".high");
      if (spec["log"]) {
        const std::string log = spec["log"].Scalar();
        if (log != "true" && log != "false") throw ConfigError(where(file, spec["log"]) + ": " + field + ".log: expected true or false");
        d.log = log == "true";
      }
      if (d.low > d.high) {
        throw ConfigError(where(file, spec["low"]) + ": " + field + ": low (" + format_number(d.low) +
                          ") is greater than high (" + format_number(d.high) + ")");
      }
      if (d.log && d.low <= 0) {
        throw ConfigError(where(file, spec["low"]) + ": " + field + ": a log scale needs low > 0, got " + format_number(d.low));
      }
      if (d.type == DimensionType::kInt && (d.low != std::floor(d.low) || d.high != std::floor(d.high))) {
        throw ConfigError(at + ": " + field + ": an int dimension needs integer bounds");
      }
    } else if (type == "categorical") {
      d.type = DimensionType::kCategorical;
      if (!spec["choices"] || !spec["choices"].IsSequence() || spec["choices"].size() == 0) {
        throw ConfigError(at + ": " + field + ": a categorical needs a non-empty list 'choices'");
      }
      for (const auto& c : spec["choices"]) d.choices.push_back(c.Scalar());
    } else if (type == "fixed") {
      d.type = DimensionType::kFixed;
      if (!spec["value"]) throw ConfigError(at + ": " + field + ": a fixed dimension needs 'value'");
      d.choices = {spec["value"].Scalar()};
    } else {
      throw ConfigError(where(file, spec["type"]) + ": " + field + ": unknown type '" + type +
                        "' (expected float, int, categorical or fixed)");
    }
    if (spec["condition"]) {
      const YAML::Node& cond = spec["condition"];
      if (!cond.IsMap() || !cond["parent"] || !cond["values"] || !cond["values"].IsSequence()) {
        throw ConfigError(where(file, cond) + ": " + field + ".condition: expected {parent: KEY, values: [...]}");
      }
      d.parent = cond["parent"].Scalar();
      for (const auto& v : cond["values"]) d.parent_values.push_back(v.Scalar());
    }
    if (const ConfigField* key = keys ? keys->find(d.name) : nullptr) check_against_key(d, *key, spec, file);
    conditions.push_back(spec["condition"] ? where(file, spec["condition"]) : at);
    dims.push_back(std::move(d));
  }
  // A condition's parent must be an earlier categorical dimension.
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i].parent.empty()) continue;
    bool found = false;
    for (std::size_t j = 0; j < i; ++j) {
      if (dims[j].name == dims[i].parent && dims[j].type == DimensionType::kCategorical) found = true;
    }
    if (!found) {
      throw ConfigError(conditions[i] + ": search_space." + dims[i].name + ".condition: parent '" + dims[i].parent +
                        "' must be a categorical dimension listed before it");
    }
  }
  return SearchSpace(std::move(dims));
}

int SearchSpace::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    if (dims_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

bool SearchSpace::active(const Configuration& c, std::size_t i) const {
  const Dimension& d = dims_[i];
  if (d.parent.empty()) return true;
  const int p = index_of(d.parent);
  if (p < 0 || !active(c, static_cast<std::size_t>(p)) || std::isnan(c.values[p])) return false;
  const std::string& value = dims_[p].choices[static_cast<std::size_t>(c.values[p])];
  return std::find(d.parent_values.begin(), d.parent_values.end(), value) != d.parent_values.end();
}

void SearchSpace::fix_inactive(Configuration& c) const {
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    if (!active(c, i)) c.values[i] = std::nan("");
  }
}

Configuration SearchSpace::sample(Rng& rng) const {
  std::vector<double> u(dims_.size());
  for (auto& x : u) x = rng.uniform();
  return decode(u);
}

std::vector<double> SearchSpace::encode(const Configuration& c) const {
  std::vector<double> u(dims_.size(), 0.5);
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    const Dimension& d = dims_[i];
    if (std::isnan(c.values[i])) continue;
    switch (d.type) {
      case DimensionType::kFloat:
      case DimensionType::kInt:
        u[i] = d.high > d.low ? std::clamp(to_unit(d, c.values[i]), 0.0, 1.0) : 0.5;
        break;
      case DimensionType::kCategorical:
        u[i] = (c.values[i] + 0.5) / static_cast<double>(d.choices.size());
        break;
      case DimensionType::kFixed:
        break;
    }
  }
  return u;
}

Configuration SearchSpace::decode(const std::vector<double>& u) const {
  Configuration c;
  c.values.resize(dims_.size());
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    const Dimension& d = dims_[i];
    switch (d.type) {
      case DimensionType::kFloat:
      case DimensionType::kInt:
        c.values[i] = d.high > d.low ? from_unit(d, u[i]) : d.low;
        break;
      case DimensionType::kCategorical: {
        const double k = std::floor(std::clamp(u[i], 0.0, 1.0) * static_cast<double>(d.choices.size()));
        c.values[i] = std::min(k, static_cast<double>(d.choices.size() - 1));
        break;
      }
      case DimensionType::kFixed:
        c.values[i] = 0.0;
        break;
    }
  }
  fix_inactive(c);
  return c;
}

std::vector<Configuration> SearchSpace::grid(int points) const {
  std::vector<std::vector<double>> axes;
  for (const Dimension& d : dims_) {
    std::vector<double> axis;
    if (d.type == DimensionType::kFloat || d.type == DimensionType::kInt) {
      const int n = d.high > d.low ? std::max(points, 1) : 1;
      for (int k = 0; k < n; ++k) {
        const double t = n == 1 ? 0.0 : static_cast<double>(k) / (n - 1);
        double v = d.log ? std::exp(std::log(d.low) + t * (std::log(d.high) - std::log(d.low)))
                         : d.low + t * (d.high - d.low);
        if (d.type == DimensionType::kInt) v = std::round(v);
        if (axis.empty() || axis.back() != v) axis.push_back(v);
      }
    } else {
      for (std::size_t k = 0; k < d.choices.size(); ++k) axis.push_back(static_cast<double>(k));
    }
    axes.push_back(axis);
  }
  std::vector<Configuration> out;
  std::vector<std::size_t> index(dims_.size(), 0);
  for (;;) {
    Configuration c;
    for (std::size_t i = 0; i < dims_.size(); ++i) c.values.push_back(axes[i][index[i]]);
    fix_inactive(c);
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    std::size_t i = dims_.size();
    while (i > 0) {
      --i;
      if (++index[i] < axes[i].size()) break;
      index[i] = 0;
      if (i == 0) return out;
    }
    if (dims_.empty()) return out;
  }
}

std::string SearchSpace::text(const Configuration& c, std::size_t i) const {
  const Dimension& d = dims_[i];
  const double v = c.values[i];
  if (std::isnan(v)) return "";
  switch (d.type) {
    case DimensionType::kInt: return std::to_string(static_cast<long long>(v));
    case DimensionType::kFloat: return format_number(v);
    default: return d.choices[static_cast<std::size_t>(v)];
  }
}

std::vector<std::string> SearchSpace::overrides(const Configuration& c) const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    if (!std::isnan(c.values[i])) out.push_back(dims_[i].name + "=" + text(c, i));
  }
  return out;
}

nlohmann::json values_to_json(const Configuration& c) {
  nlohmann::json j = nlohmann::json::array();
  for (const double v : c.values) j.push_back(std::isnan(v) ? nlohmann::json() : nlohmann::json(v));
  return j;
}

Configuration values_from_json(const nlohmann::json& j) {
  Configuration c;
  for (const auto& v : j) c.values.push_back(v.is_null() ? std::nan("") : v.get<double>());
  return c;
}

std::string SearchSpace::to_json(const Configuration& c) const {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    if (std::isnan(c.values[i])) continue;
    const Dimension& d = dims_[i];
    if (d.type == DimensionType::kInt) {
      j[d.name] = static_cast<long long>(c.values[i]);
    } else if (d.type == DimensionType::kFloat) {
      j[d.name] = c.values[i];
    } else {
      const std::string& s = d.choices[static_cast<std::size_t>(c.values[i])];
      char* end = nullptr;
      const double num = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size()) {
        j[d.name] = num;
      } else {
        j[d.name] = s;
      }
    }
  }
  return j.dump();
}

Configuration SearchSpace::from_json(const std::string& text) const {
  const nlohmann::json j = nlohmann::json::parse(text);
  Configuration c;
  c.values.assign(dims_.size(), std::nan(""));
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    const Dimension& d = dims_[i];
    if (!j.contains(d.name)) continue;
    if (d.type == DimensionType::kFloat || d.type == DimensionType::kInt) {
      c.values[i] = j[d.name].get<double>();
    } else {
      for (std::size_t k = 0; k < d.choices.size(); ++k) {
        const auto& v = j[d.name];
        const std::string s = v.is_string() ? v.get<std::string>() : std::string();
        if ((v.is_string() && s == d.choices[k]) ||
            (v.is_number() && std::strtod(d.choices[k].c_str(), nullptr) == v.get<double>())) {
          c.values[i] = static_cast<double>(k);
        }
      }
    }
  }
  return c;
}

}  // namespace graybox::core
