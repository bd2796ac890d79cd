// A tiny teacher-student instance for the control tests: 600 examples, 8 inputs, 3 classes,
// a 16-unit MLP, batches of 32, a budget of 60 minibatches.
#pragma once

#include "dac/instance.hpp"

namespace graybox::dac::testing {

inline Instance tiny_instance(optim::OptimizerKind kind = optim::OptimizerKind::kSgd) {
  Instance in;
  in.name = "tiny";
  in.data.name = "teacher_student";
  in.data.teacher.dim = 8;
  in.data.teacher.hidden = 16;
  in.data.teacher.classes = 3;
  in.data.teacher.examples = 600;
  in.model.type = "mlp";
  in.model.widths = {16};
  in.optimizer = kind;
  in.lr = kind == optim::OptimizerKind::kSgd ? 0.05 : 1e-3;
  in.weight_decay = 1e-3;
  in.momentum = 0.9;
  in.batch_size = 32;
  in.budget = 60;
  in.seed = 7;
  return in;
}

}  // namespace graybox::dac::testing
