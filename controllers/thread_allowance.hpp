// ThreadAllowance: lets TBB run `threads` threads at once for the object's life, so that an arena
// of `tune.parallel` trials (or population members) gets that many threads even above the core
// count. TBB caps its workers at the cores (hardware_concurrency - 1 beside the calling thread)
// unless a tbb::global_control raises max_allowed_parallelism; an arena asking for more printed
// "The number of workers is currently limited" and ran fewer trials at once than asked. Trials
// are independent jobs (often waiting on I/O, a sleeping objective, or a user who wants N side by
// side), so `parallel` means N threads.
//
// TBB applies the smallest of all live max_allowed_parallelism controls, so one control per
// runner would let the runner with the fewest threads cap every other one alive. The allowances
// alive in the process therefore share one control at the largest of them, and none ever lowers
// what was allowed without it (TBB's default, or a larger control of the caller's). A smaller
// control of the caller's still wins: that is TBB's rule and the caller's choice.
#pragma once

#include <cstddef>

namespace graybox::controllers {

class ThreadAllowance {
 public:
  explicit ThreadAllowance(int threads);
  ~ThreadAllowance();
  ThreadAllowance(const ThreadAllowance&) = delete;
  ThreadAllowance& operator=(const ThreadAllowance&) = delete;

 private:
  std::size_t threads_;
};

}  // namespace graybox::controllers
