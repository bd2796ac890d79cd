// The TBB arena that runs `parallel` trials (or population members) side by side. TBB caps its
// threads at the machine's cores by default, so an arena for more trials than cores got fewer
// threads than asked (TBB printed "The number of workers is currently limited" on every run,
// and asynchronous PBT workers waiting on one another could be left without a thread). The cap
// is raised to `parallel` for the arena's life.
#pragma once

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstddef>

namespace graybox::controllers {

struct TrialArena {
  explicit TrialArena(int parallel)
      : control(tbb::global_control::max_allowed_parallelism,
                std::max<std::size_t>(static_cast<std::size_t>(std::max(parallel, 1)),
                                      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism))),
        arena(std::max(parallel, 1)) {}
  tbb::global_control control;
  tbb::task_arena arena;
};

}  // namespace graybox::controllers
