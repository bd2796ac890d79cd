// The learner state of an off-policy agent that a checkpoint holds and a PBT exploit copies,
// listed once by each algorithm: its networks, optimizers and loose tensors (SAC's log α) by
// name. save_parts, load_parts and copy_parts walk that one list, so a part an algorithm adds
// is saved, loaded and copied alike. Includes LibTorch: include it only from .cpp files that
// already use torch.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "optim/optimizer.hpp"

namespace graybox::agents {

struct LearnerParts {
  std::vector<std::pair<const char*, torch::nn::Module*>> networks;
  std::vector<std::pair<const char*, optim::ControllableOptimizer*>> optimizers;
  std::vector<std::pair<const char*, torch::Tensor*>> tensors;
};

// One archive at `path` with every part under its name and the actor-update count.
void save_parts(const LearnerParts& parts, std::int64_t actor_updates, const std::string& path);
// Throws core::UserError naming the path ("not a valid <algorithm> checkpoint") for a missing,
// truncated or mismatched file.
void load_parts(const LearnerParts& parts, std::int64_t& actor_updates, const std::string& path,
                const std::string& algorithm);
// Parameters, optimizer moments and tensors, in memory (both lists from the same algorithm).
void copy_parts(const LearnerParts& from, const LearnerParts& to);

}  // namespace graybox::agents
