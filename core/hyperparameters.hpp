// Hyperparameters: a named set of numeric values. A trainable reads its values at every update,
// so a controller's change takes effect at the next update, never in the middle of one.
// Integers and booleans are stored as doubles (a boolean is 0 or 1).
#pragma once

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

namespace graybox::core {

class Hyperparameters {
 public:
  Hyperparameters() = default;
  explicit Hyperparameters(std::map<std::string, double> values) : values_(std::move(values)) {}

  bool has(const std::string& name) const { return values_.count(name) != 0; }

  double get(const std::string& name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) throw std::out_of_range("no hyperparameter named '" + name + "'");
    return it->second;
  }
  long long get_int(const std::string& name) const { return std::llround(get(name)); }
  bool get_bool(const std::string& name) const { return get(name) != 0.0; }

  void set(const std::string& name, double value) { values_[name] = value; }

  const std::map<std::string, double>& values() const { return values_; }
  bool operator==(const Hyperparameters& other) const { return values_ == other.values_; }

 private:
  std::map<std::string, double> values_;
};

}  // namespace graybox::core
