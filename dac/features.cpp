#include "dac/features.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace graybox::dac {

void DiscountedStats::add(double x) {
  if (n_++ == 0) {
    mean_ = x;
    var_ = 0;
    return;
  }
  const double d = x - mean_;
  mean_ += (1 - decay_) * d;
  var_ = decay_ * (var_ + (1 - decay_) * d * d);
}

void UpdateAlignment::start(const std::vector<float>& theta) {
  previous_ = theta;
  direction_.assign(theta.size(), 0.0f);
  have_direction_ = false;
  alignment_ = 0;
  update_norm_ = 0;
}

void UpdateAlignment::restore(const std::vector<float>& theta, std::vector<float> direction, bool has_direction,
                              double alignment, double update_norm) {
  if (direction.size() != theta.size()) throw std::invalid_argument("UpdateAlignment: the parameter count changed");
  previous_ = theta;
  direction_ = std::move(direction);
  have_direction_ = has_direction;
  alignment_ = alignment;
  update_norm_ = update_norm;
}

double UpdateAlignment::observe(const std::vector<float>& theta) {
  if (theta.size() != previous_.size()) throw std::invalid_argument("UpdateAlignment: the parameter count changed");
  double dot = 0, now = 0, before = 0;
  for (std::size_t i = 0; i < theta.size(); ++i) {
    const double d = static_cast<double>(theta[i]) - static_cast<double>(previous_[i]);
    const double p = direction_[i];
    dot += d * p;
    now += d * d;
    before += p * p;
    direction_[i] = static_cast<float>(d);
    previous_[i] = theta[i];
  }
  update_norm_ = std::sqrt(now);
  alignment_ = have_direction_ && now > 0 && before > 0 ? dot / std::sqrt(now * before) : 0.0;
  if (!std::isfinite(alignment_)) alignment_ = 0;
  have_direction_ = true;
  return alignment_;
}

}  // namespace graybox::dac
