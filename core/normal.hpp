// The standard normal distribution, for every place that needs its density or distribution
// function: the Gaussian policy's log-probabilities, the GP's likelihood and expected
// improvement, TPE's truncated Parzen estimators and BOHB's kernel density estimates.
#pragma once

#include <cmath>

namespace graybox::core {

constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log(sqrt(2 pi))

inline double normal_log_pdf(double z) { return -0.5 * z * z - kLogSqrt2Pi; }
inline double normal_pdf(double z) { return std::exp(normal_log_pdf(z)); }
inline double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

}  // namespace graybox::core
