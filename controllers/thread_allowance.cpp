#include "controllers/thread_allowance.hpp"

#include <tbb/global_control.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <set>

namespace graybox::controllers {
namespace {

using tbb::global_control;

// The process's one control, shared by every live allowance.
struct SharedControl {
  std::mutex mutex;
  std::multiset<std::size_t> asked;          // one entry per live allowance
  std::size_t allowed_without = 0;           // the active value when none of ours was alive
  std::size_t value = 0;                     // our control's value; 0: none
  std::unique_ptr<global_control> control;

  // With the mutex held: our control at the largest allowance asked for, or none if that is
  // already allowed without it.
  void refresh() {
    const std::size_t wanted = asked.empty() ? 0 : *asked.rbegin();
    if (wanted <= allowed_without) {
      control.reset();
      value = 0;
    } else if (wanted != value) {
      // The new control is made before the old one goes, so the limit never dips in between
      // under an arena that is running.
      control = std::make_unique<global_control>(global_control::max_allowed_parallelism, wanted);
      value = wanted;
    }
  }
};

SharedControl& shared() {
  static SharedControl s;
  return s;
}

}  // namespace

ThreadAllowance::ThreadAllowance(int threads) : threads_(static_cast<std::size_t>(std::max(threads, 1))) {
  SharedControl& s = shared();
  const std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.control) s.allowed_without = global_control::active_value(global_control::max_allowed_parallelism);
  s.asked.insert(threads_);
  s.refresh();
}

ThreadAllowance::~ThreadAllowance() {
  SharedControl& s = shared();
  const std::lock_guard<std::mutex> lock(s.mutex);
  s.asked.erase(s.asked.find(threads_));
  s.refresh();
}

}  // namespace graybox::controllers
