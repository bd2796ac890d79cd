// Running mean and variance of a vector quantity, merged batch by batch with the parallel
// formula (Chan et al.). Starts at mean 0, variance 1, count 1e-4, as Gymnasium's wrappers do.
#pragma once

#include <cstddef>
#include <vector>

namespace graybox::agents {

struct RunningMeanStd {
  std::vector<double> mean, var;
  double count = 1e-4;

  explicit RunningMeanStd(std::size_t dim = 0) : mean(dim, 0.0), var(dim, 1.0) {}

  // rows: n consecutive vectors of size dim.
  void update(const double* rows, std::size_t n) {
    const std::size_t dim = mean.size();
    if (n == 0) return;
    std::vector<double> batch_mean(dim, 0.0), batch_var(dim, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < dim; ++j) batch_mean[j] += rows[i * dim + j];
    }
    for (auto& m : batch_mean) m /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < dim; ++j) {
        const double d = rows[i * dim + j] - batch_mean[j];
        batch_var[j] += d * d;
      }
    }
    for (auto& v : batch_var) v /= static_cast<double>(n);
    const double batch_count = static_cast<double>(n);
    const double total = count + batch_count;
    for (std::size_t j = 0; j < dim; ++j) {
      const double delta = batch_mean[j] - mean[j];
      const double m2 = var[j] * count + batch_var[j] * batch_count +
                        delta * delta * count * batch_count / total;
      mean[j] += delta * batch_count / total;
      var[j] = m2 / total;
    }
    count = total;
  }
};

}  // namespace graybox::agents
