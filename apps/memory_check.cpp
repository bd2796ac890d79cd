#include "apps/memory_check.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace graybox::apps {

double mlp_parameters(double inputs, const std::vector<long long>& widths, double outputs) {
  double total = 0.0, in = inputs;
  for (const long long w : widths) {
    total += (in + 1.0) * static_cast<double>(w);
    in = static_cast<double>(w);
  }
  return total + (in + 1.0) * outputs;
}

void check_training_memory(double parameters, const core::Config& config, const std::string& key) {
  const double needed = parameters * 4.0 * 4.0;
  double available = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  rlimit limit{};
  if (::getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    available = std::min(available, static_cast<double>(limit.rlim_cur));
  }
  if (available > 0 && needed > available) {
    char message[256];
    std::snprintf(message, sizeof(message),
                  "the network has %.3g parameters; training it needs about %.1f GB (weights, gradients, two "
                  "optimizer moments), more than the %.1f GB this process may use",
                  parameters, needed / 1e9, available / 1e9);
    config.fail(key, message);
  }
}

}  // namespace graybox::apps
