#include "pbt/explore.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace graybox::pbt {
namespace {

double parse_number(const std::string& text, bool& ok) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    ok = used == text.size();
    return v;
  } catch (const std::exception&) {
    ok = false;
    return 0.0;
  }
}

double perturb_number(const core::Dimension& d, double value, double factor) {
  if (d.log && value > 0.0) return std::exp(std::log(value) + std::log(factor));
  if (value == 0.0) return (factor - 1.0) * (d.high - d.low) * 0.1;  // x f cannot move 0
  return value * factor;
}

}  // namespace

bool ordered_choices(const core::Dimension& dim) {
  if (dim.type != core::DimensionType::kCategorical || dim.choices.size() < 2) return false;
  double previous = -INFINITY;
  for (const auto& c : dim.choices) {
    bool ok = false;
    const double v = parse_number(c, ok);
    if (!ok || !(v > previous)) return false;
    previous = v;
  }
  return true;
}

core::Configuration explore(const core::SearchSpace& space, const core::Configuration& config,
                            const ExploreOptions& options, core::Rng& rng) {
  core::Configuration out = config;
  // One fresh draw serves every resampled dimension (and dimensions that become active).
  const core::Configuration fresh = space.sample(rng);
  for (std::size_t i = 0; i < space.size(); ++i) {
    const core::Dimension& d = space.dims()[i];
    const double v = config.values[i];
    // Draw both numbers for every dimension so that one dimension's kind never shifts another's.
    const bool resample = rng.uniform() < options.resample_probability;
    const bool up = rng.uniform() < 0.5;
    if (d.type == core::DimensionType::kFixed || std::isnan(v)) continue;
    if (resample) {
      out.values[i] = fresh.values[i];
      continue;
    }
    const double factor = up ? options.perturb_up : options.perturb_down;
    switch (d.type) {
      case core::DimensionType::kFloat:
        out.values[i] = std::clamp(perturb_number(d, v, factor), d.low, d.high);
        break;
      case core::DimensionType::kInt: {
        double n = std::clamp(std::round(perturb_number(d, v, factor)), std::ceil(d.low), std::floor(d.high));
        if (n == v) {
          const double step = factor >= 1.0 ? 1.0 : -1.0;
          n = v + step;
          if (n > d.high || n < d.low) n = v - step;
          n = std::clamp(n, std::ceil(d.low), std::floor(d.high));
        }
        out.values[i] = n;
        break;
      }
      case core::DimensionType::kCategorical:
        if (ordered_choices(d)) {
          const double last = static_cast<double>(d.choices.size() - 1);
          out.values[i] = std::clamp(v + (up ? 1.0 : -1.0), 0.0, last);
        } else {
          out.values[i] = fresh.values[i];
        }
        break;
      case core::DimensionType::kFixed:
        break;
    }
  }
  // Parents may have changed: give newly active dimensions a value, blank inactive ones.
  for (std::size_t i = 0; i < space.size(); ++i) {
    const bool active = space.active(out, i);
    if (active && std::isnan(out.values[i])) out.values[i] = fresh.values[i];
    if (!active) out.values[i] = std::nan("");
  }
  return out;
}

std::vector<Exploit> select_exploits(const std::vector<double>& losses, double quantile_fraction, core::Rng& rng) {
  std::vector<int> scored;
  for (std::size_t i = 0; i < losses.size(); ++i) {
    if (!std::isnan(losses[i])) scored.push_back(static_cast<int>(i));
  }
  std::stable_sort(scored.begin(), scored.end(), [&](int a, int b) { return losses[a] < losses[b]; });
  const std::size_t n_scored = scored.size();
  const std::size_t n = std::min(static_cast<std::size_t>(std::ceil(static_cast<double>(n_scored) * quantile_fraction - 1e-12)),
                                 n_scored / 2);
  std::vector<int> bottom(scored.end() - static_cast<std::ptrdiff_t>(n), scored.end());
  std::sort(bottom.begin(), bottom.end());
  std::vector<Exploit> out;
  for (const int member : bottom) {
    out.push_back({member, scored[rng.below(n)]});
  }
  return out;
}

}  // namespace graybox::pbt
