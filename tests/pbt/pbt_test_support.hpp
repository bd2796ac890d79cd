// What the population tests share: Branin's search space and a fresh directory per test process.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/search_space.hpp"

namespace graybox::pbt::testing {

inline core::SearchSpace branin_space() {
  return core::SearchSpace({core::Dimension{"x1", core::DimensionType::kFloat, -5, 10, false, {}, "", {}},
                            core::Dimension{"x2", core::DimensionType::kFloat, 0, 15, false, {}, "", {}}});
}

// The pid keeps two test processes (two build trees, ctest -j) out of each other's way.
inline std::string fresh_dir(const std::string& name) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("graybox_pbt_" + name + "_" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace graybox::pbt::testing
