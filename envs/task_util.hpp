// Small helpers shared by the task implementations (not part of the public env interface).
#pragma once

#include <mujoco/mujoco.h>

#include <algorithm>
#include <string>

#include "envs/mujoco_env.hpp"

namespace graybox::envs {

// The Gymnasium environment version a task object follows.
enum class Version { kV4, kV5 };

inline std::string versioned_id(const char* name, Version version) {
  return std::string(name) + (version == Version::kV4 ? "-v4" : "-v5");
}

inline double sum_squares(const double* x, int n) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

// Sum of squares of x clipped to [low, high].
inline double sum_squares_clipped(const double* x, int n, double low, double high) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) {
    const double c = std::clamp(x[i], low, high);
    s += c * c;
  }
  return s;
}

// Copies n values, clipped to [low, high], and returns the next write position.
inline double* copy_clipped(const double* x, int n, double low, double high, double* out) {
  for (int i = 0; i < n; ++i) *out++ = std::clamp(x[i], low, high);
  return out;
}

inline double* copy_values(const double* x, int n, double* out) {
  for (int i = 0; i < n; ++i) *out++ = x[i];
  return out;
}

}  // namespace graybox::envs
