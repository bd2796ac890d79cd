// Wall-clock helpers for the seconds that summaries and benchmarks report.
#pragma once

#include <chrono>

namespace graybox::core {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace graybox::core
