#include "controllers/hyperparameter_values.hpp"

#include <cmath>

#include "core/error.hpp"

namespace graybox::controllers {

namespace {

core::UserError not_a_hyperparameter(const std::string& key, const std::string& algorithm) {
  return core::UserError("search_space." + key + ": not a hyperparameter that can change during training, so " + algorithm +
                         " cannot tune it");
}

}  // namespace

std::map<std::string, double> hyperparameter_values(const core::SearchSpace& space, const core::TrialFactory& factory,
                                                    const core::Configuration& config, const std::string& algorithm) {
  std::map<std::string, double> values;
  for (std::size_t i = 0; i < space.size(); ++i) {
    if (std::isnan(config.values[i])) continue;
    const auto& d = space.dims()[i];
    const std::string name = factory.hyperparameter_name(d.name);
    if (name.empty()) throw not_a_hyperparameter(d.name, algorithm);
    const std::string text = space.text(config, i);
    double value = config.values[i];
    if (d.type == core::DimensionType::kCategorical || d.type == core::DimensionType::kFixed) {
      try {
        value = std::stod(text);
      } catch (const std::exception&) {
        if (text != "true" && text != "false") {
          throw core::UserError("search_space." + d.name + ": the choice '" + text + "' is not a number");
        }
        value = text == "true" ? 1.0 : 0.0;
      }
    }
    values[name] = value;
  }
  return values;
}

void set_hyperparameter_values(const core::SearchSpace& space, const core::TrialFactory& factory,
                               const core::Configuration& config, const std::string& algorithm, core::Trainable& trainable) {
  core::Hyperparameters hp = trainable.hyperparameters();
  const std::map<std::string, double> values = hyperparameter_values(space, factory, config, algorithm);
  for (std::size_t i = 0; i < space.size(); ++i) {
    if (std::isnan(config.values[i])) continue;
    const std::string& key = space.dims()[i].name;
    const std::string name = factory.hyperparameter_name(key);
    if (!hp.has(name)) throw not_a_hyperparameter(key, algorithm);
    hp.set(name, values.at(name));
  }
  trainable.set_hyperparameters(hp);
}

}  // namespace graybox::controllers
