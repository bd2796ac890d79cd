#include "tasks/supervised_task.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/rng.hpp"
#include "optim/schedule_config.hpp"

namespace graybox::tasks {

using nlohmann::json;

void add_supervised_schema(core::ConfigSchema& s) {
  s.add_int("seed", 1, "the experiment seed; the split, weights, data order and dropout derive their streams from it", 0, 9.0e15);
  s.add_string("data.name", "fashion_mnist", "the data set",
               {"fashion_mnist", "digits", "iris", "wine", "breast_cancer", "teacher_student"});
  s.add_string("data.dir", "", "the folder holding the data files (default: the Debian package's)");
  s.add_float("data.val_fraction", 0.1, "fraction of the training data held out for validation", 0.0, 0.9);
  s.add_float("data.test_fraction", 0.2, "fraction held out for test, for sets without a test split", 0.0, 0.9);
  s.add_bool("data.standardize", true, "standardise inputs with the training set's mean and std");
  s.add_int("data.limit", 0, "keep at most this many examples per split (0: all); for quick runs", 0, 9.0e15);
  s.add_int("data.split_seed", -1,
            "seeds the data (split, generated sets) apart from the weights and order (-1: from seed); the trials "
            "of a tune experiment share the base config's, so all score on one validation set",
            -1, 9.0e15);
  s.add_int("data.teacher.dim", 20, "teacher_student: input dimension", 1, 100000);
  s.add_int("data.teacher.hidden", 32, "teacher_student: teacher hidden width", 1, 100000);
  s.add_int("data.teacher.classes", 4, "teacher_student: classes", 2, 1000);
  s.add_int("data.teacher.examples", 4000, "teacher_student: examples generated", 10, 1.0e8);
  s.add_float("data.teacher.label_noise", 0.0, "teacher_student: fraction of labels replaced at random", 0.0, 1.0);

  s.add_string("model.type", "mlp", "the network", {"mlp", "cnn"});
  s.add_int_list("model.widths", "[256]", "hidden widths of the fully connected layers", 1, 65536);
  s.add_int_list("model.channels", "[16, 32]", "cnn: channels of each 3x3 conv + 2x2 max-pool block", 1, 4096);
  s.add_string("model.activation", "relu", "activation", {"relu", "tanh", "gelu", "elu"});
  s.add_float("model.dropout", 0.0, "dropout after each hidden fully connected layer", 0.0, 0.95);
  s.add_bool("model.batch_norm", false, "batch norm after each hidden layer (before the activation)");

  s.add_string("optimizer.name", "adamw", "sgd (decoupled weight decay, SGDW), adam (L2 unless decoupled) or adamw", {"sgd", "adam", "adamw"});
  s.add_float("optimizer.lr", 1e-3, "base learning rate (the schedule multiplies it)", 0.0, 1e6);
  s.add_float("optimizer.weight_decay", 0.0, "weight decay λ (λ_norm when weight_decay_normalized)", 0.0, 1e6);
  s.add_bool("optimizer.weight_decay_normalized", false, "λ = weight_decay·√(batch/(train points·epochs)) (AdamW paper)");
  s.add_bool("optimizer.decoupled_weight_decay", true, "sgd and adam: decay the weights directly (false: L2 in the gradient, as PyTorch)");
  s.add_float("optimizer.momentum", 0.9, "sgd: momentum", 0.0, 0.999999);
  s.add_float("optimizer.dampening", 0.0, "sgd: dampening", 0.0, 1.0);
  s.add_bool("optimizer.nesterov", false, "sgd: Nesterov momentum");
  s.add_float("optimizer.beta1", 0.9, "adam/adamw: β1", 0.0, 0.999999);
  s.add_float("optimizer.beta2", 0.999, "adam/adamw: β2", 0.0, 0.999999999);
  s.add_float("optimizer.eps", 1e-8, "adam/adamw: ε", 0.0, 1.0).min_exclusive = true;

  optim::add_schedule_schema(s, "schedule.", "constant");
  s.add_string("schedule.unit", "epochs", "what the schedule's t counts (fractional epochs or minibatches)", {"epochs", "steps"});
  s.add_bool("schedule.weight_decay", false, "apply the same multiplier to weight decay (AdamWR)");

  s.add_int("train.epochs", 10, "epochs to train for", 1, 1e6);
  s.add_int("train.batch_size", 128, "minibatch size", 1, 1e7);
  s.add_int("train.eval_interval", 0, "minibatches between validation passes (0: once per epoch)", 0, 9.0e15);
  s.add_int("torch_threads", 1, "LibTorch intra-op threads of the thread that trains (1 is fastest for these small networks)", 1, 256);
}

SupervisedTaskConfig supervised_task_config(const core::Config& config) {
  SupervisedTaskConfig c;
  c.seed = static_cast<std::uint64_t>(config.get_int("seed"));
  c.torch_threads = static_cast<int>(config.get_int("torch_threads"));
  auto& d = c.data;
  d.name = config.get_string("data.name");
  d.dir = config.get_string("data.dir");
  d.val_fraction = config.get_float("data.val_fraction");
  d.test_fraction = config.get_float("data.test_fraction");
  d.standardize = config.get_bool("data.standardize");
  d.limit = config.get_int("data.limit");
  d.split_seed = config.get_int("data.split_seed");
  d.teacher.dim = static_cast<int>(config.get_int("data.teacher.dim"));
  d.teacher.hidden = static_cast<int>(config.get_int("data.teacher.hidden"));
  d.teacher.classes = static_cast<int>(config.get_int("data.teacher.classes"));
  d.teacher.examples = config.get_int("data.teacher.examples");
  d.teacher.label_noise = config.get_float("data.teacher.label_noise");

  auto& t = c.trainer;
  t.model.type = config.get_string("model.type");
  t.model.widths = config.get_int_list("model.widths");
  t.model.channels = config.get_int_list("model.channels");
  t.model.activation = config.get_string("model.activation");
  t.model.dropout = config.get_float("model.dropout");
  t.model.batch_norm = config.get_bool("model.batch_norm");
  t.optimizer = optim::parse_optimizer_kind(config.get_string("optimizer.name"));
  t.settings.lr = config.get_float("optimizer.lr");
  t.settings.weight_decay = config.get_float("optimizer.weight_decay");
  t.settings.decoupled_weight_decay = config.get_bool("optimizer.decoupled_weight_decay");
  t.settings.momentum = t.optimizer == optim::OptimizerKind::kSgd ? config.get_float("optimizer.momentum") : 0.0;
  t.settings.dampening = config.get_float("optimizer.dampening");
  t.settings.nesterov = config.get_bool("optimizer.nesterov");
  t.settings.beta1 = config.get_float("optimizer.beta1");
  t.settings.beta2 = config.get_float("optimizer.beta2");
  t.settings.eps = config.get_float("optimizer.eps");
  if (t.settings.nesterov && (t.settings.momentum == 0.0 || t.settings.dampening != 0.0)) {
    config.fail("optimizer.nesterov", "Nesterov momentum needs optimizer.name sgd, momentum > 0 and dampening 0");
  }
  t.batch_size = config.get_int("train.batch_size");
  t.init_seed = core::derive_seed(c.seed, core::Stream::kInit);
  t.data_seed = core::derive_seed(c.seed, core::Stream::kData, 1);
  t.noise_seed = core::derive_seed(c.seed, core::Stream::kAgent);
  c.weight_decay_normalized = config.get_bool("optimizer.weight_decay_normalized");
  c.epochs = config.get_int("train.epochs");
  c.eval_interval = config.get_int("train.eval_interval");

  auto& s = c.schedule;
  s = optim::schedule_spec(config, "schedule.");
  c.schedule_in_epochs = config.get_string("schedule.unit") == "epochs";
  c.schedule_weight_decay = config.get_bool("schedule.weight_decay");
  // A length of 0 means "the rest of the run after warm-up".
  const bool by_steps = !c.schedule_in_epochs;
  if (s.duration == 0.0 && !by_steps) s.duration = std::max(1.0, static_cast<double>(c.epochs) - s.warmup);
  if (!(by_steps && s.duration == 0.0 && (s.type == "linear" || s.type == "cosine" || s.type == "onecycle"))) {
    optim::check_schedule(config, "schedule.", s);
  }
  c.hyperparameters = core::Hyperparameters({{"learning_rate", t.settings.lr},
                                             {"weight_decay", t.settings.weight_decay},
                                             {"momentum", t.settings.momentum},
                                             {"beta1", t.settings.beta1},
                                             {"beta2", t.settings.beta2}});
  return c;
}

optim::Split load_supervised_data(const SupervisedDataOptions& o, std::uint64_t run_seed) {
  const std::uint64_t seed = o.split_seed >= 0 ? static_cast<std::uint64_t>(o.split_seed) : run_seed;
  const std::uint64_t split_seed = core::derive_seed(seed, core::Stream::kData, 0);
  optim::Split split;
  if (o.name == "fashion_mnist") {
    const std::string dir = o.dir.empty() ? optim::kFashionMnistDir : o.dir;
    split = optim::split_train_val(optim::load_fashion_mnist("train", dir), optim::load_fashion_mnist("test", dir),
                                   o.val_fraction, split_seed);
  } else if (o.name == "teacher_student") {
    split = optim::split_dataset(optim::teacher_student(o.teacher, core::derive_seed(seed, core::Stream::kData, 2)),
                                 o.val_fraction, o.test_fraction, split_seed);
  } else {
    split = optim::split_dataset(optim::load_sklearn(o.name, o.dir.empty() ? optim::kSklearnDataDir : o.dir),
                                 o.val_fraction, o.test_fraction, split_seed);
  }
  if (o.limit > 0) {
    for (optim::Dataset* d : {&split.train, &split.val, &split.test}) {
      if (d->size() <= o.limit) continue;
      std::vector<std::int64_t> first(static_cast<std::size_t>(o.limit));
      std::iota(first.begin(), first.end(), 0);
      *d = d->subset(first);
    }
  }
  if (o.standardize) optim::standardize(split, split.train.shape.size() == 1);
  return split;
}

SupervisedTask::SupervisedTask(const SupervisedTaskConfig& config)
    : SupervisedTask(config, load_supervised_data(config.data, config.seed)) {}

SupervisedTask::SupervisedTask(const SupervisedTaskConfig& config, optim::Split data) : config_(config) {
  trainer_ = std::make_unique<optim::SupervisedTrainer>(config.trainer, std::move(data));
  if (!config_.schedule_in_epochs && config_.schedule.duration == 0.0) {
    config_.schedule.duration = std::max(1.0, static_cast<double>(total_steps()) - config_.schedule.warmup);
  }
  schedule_ = optim::make_schedule(config_.schedule);
  if (config_.weight_decay_normalized) {
    weight_decay_scale_ = optim::normalized_weight_decay(1.0, static_cast<double>(config.trainer.batch_size),
                                                         static_cast<double>(trainer_->train_size()),
                                                         static_cast<double>(config.epochs));
  }
  set_hyperparameters(config.hyperparameters);
}

SupervisedTask::~SupervisedTask() = default;

void SupervisedTask::set_hyperparameters(const core::Hyperparameters& hp) {
  for (const char* name : {"learning_rate", "weight_decay", "momentum", "beta1", "beta2"}) {
    if (!hp.has(name)) throw std::invalid_argument(std::string("missing hyperparameter '") + name + "'");
  }
  for (const auto& [name, value] : hp.values()) {
    if (name != "learning_rate" && name != "weight_decay" && name != "momentum" && name != "beta1" && name != "beta2") {
      throw std::invalid_argument("unknown hyperparameter '" + name + "' for a supervised task");
    }
    const bool unit = name == "momentum" || name == "beta1" || name == "beta2";
    if (!std::isfinite(value) || value < 0 || (unit && value >= 1)) {
      throw std::invalid_argument("hyperparameter " + name + " = " + std::to_string(value) + " is out of range");
    }
  }
  hp_ = hp;
}

std::int64_t SupervisedTask::steps_done() const { return trainer_->steps_done(); }
std::int64_t SupervisedTask::steps_per_epoch() const { return trainer_->steps_per_epoch(); }
std::int64_t SupervisedTask::total_steps() const { return config_.epochs * trainer_->steps_per_epoch(); }
double SupervisedTask::epochs_done() const {
  return static_cast<double>(steps_done()) / static_cast<double>(steps_per_epoch());
}
bool SupervisedTask::finished() const { return diverged_ || steps_done() >= total_steps(); }

double SupervisedTask::multiplier_now() const {
  const double t = config_.schedule_in_epochs ? epochs_done() : static_cast<double>(steps_done());
  return schedule_->value(t);
}

optim::OptimizerSettings SupervisedTask::settings_now() const {
  const double m = multiplier_now();
  optim::OptimizerSettings s;
  s.lr = hp_.get("learning_rate") * m;
  s.weight_decay = hp_.get("weight_decay") * weight_decay_scale_ * (config_.schedule_weight_decay ? m : 1.0);
  s.momentum = hp_.get("momentum");
  s.beta1 = hp_.get("beta1");
  s.beta2 = hp_.get("beta2");
  return s;
}

double SupervisedTask::learning_rate_now() const { return settings_now().lr; }
double SupervisedTask::weight_decay_now() const { return settings_now().weight_decay; }

void SupervisedTask::train(std::int64_t budget, core::MetricSink& sink) {
  optim::set_torch_threads(config_.torch_threads);
  const std::int64_t per_epoch = steps_per_epoch();
  const std::int64_t eval_every = config_.eval_interval > 0 ? config_.eval_interval : per_epoch;
  for (std::int64_t done = 0; done < budget && !finished(); ++done) {
    const optim::OptimizerSettings s = settings_now();
    trainer_->set_settings(s);
    const optim::StepResult r = trainer_->train_step();
    if (!r.finite) {
      diverged_ = true;
      sink.event(steps_done(), "diverged", "non-finite training loss " + std::to_string(r.loss) +
                                               " at learning rate " + std::to_string(s.lr));
      return;
    }
    const std::int64_t step = steps_done();
    sink.metric(step, "train/loss", r.loss);
    sink.metric(step, "train/accuracy", r.accuracy);
    sink.metric(step, "charts/learning_rate", s.lr);
    sink.metric(step, "charts/weight_decay", s.weight_decay);
    if (step % eval_every == 0 || step == total_steps()) {
      const optim::EvalMetrics val = trainer_->evaluate("val");
      sink.metric(step, "val/loss", val.loss);
      sink.metric(step, "val/accuracy", val.accuracy);
      sink.metric(step, "charts/epoch", epochs_done());
    }
  }
}

core::EvalResult SupervisedTask::evaluate(int) {
  optim::set_torch_threads(config_.torch_threads);
  const optim::EvalMetrics val = trainer_->evaluate("val");
  core::EvalResult result;
  result.returns = {val.accuracy};
  result.lengths = {trainer_->data().val.size()};
  result.mean = val.accuracy;
  return result;
}

optim::EvalMetrics SupervisedTask::evaluate_split(const std::string& split) const { return trainer_->evaluate(split); }

void SupervisedTask::copy_state_from(const core::Trainable& other) {
  const auto* o = dynamic_cast<const SupervisedTask*>(&other);
  if (!o) throw std::invalid_argument("copy_state_from: the other trainable is not a supervised task");
  if (o == this) return;
  if (o->config_.data.name != config_.data.name) {
    throw std::invalid_argument("copy_state_from: the other task trains on " + o->config_.data.name + ", not " +
                                config_.data.name);
  }
  trainer_->copy_state_from(*o->trainer_);
  hp_ = o->hp_;
  diverged_ = o->diverged_;
}

void SupervisedTask::reseed(std::uint64_t seed) {
  trainer_->reseed(core::derive_seed(seed, core::Stream::kData, 1), core::derive_seed(seed, core::Stream::kAgent));
}

void SupervisedTask::save(const std::string& dir) const {
  trainer_->save(dir + "/trainer.pt");
  json state;
  state["format"] = 1;
  state["data"] = config_.data.name;
  state["steps"] = steps_done();
  state["diverged"] = diverged_;
  state["hyperparameters"] = hp_.values();
  core::write_file_atomic(dir + "/state.json", state.dump(1));
}

void SupervisedTask::load(const std::string& dir) {
  const std::string path = dir + "/state.json";
  json state;
  try {
    state = json::parse(core::read_file(path));
    if (state.at("data").get<std::string>() != config_.data.name) {
      throw core::UserError(path + ": the checkpoint is for data set " + state.at("data").get<std::string>() +
                            ", not this config's " + config_.data.name);
    }
    trainer_->load(dir + "/trainer.pt");
    diverged_ = state.at("diverged").get<bool>();
    set_hyperparameters(core::Hyperparameters(state.at("hyperparameters").get<std::map<std::string, double>>()));
    if (state.at("steps").get<std::int64_t>() != steps_done()) throw std::runtime_error("step counters disagree");
  } catch (const core::UserError&) {
    throw;
  } catch (const std::exception& e) {
    throw core::UserError(path + ": not a valid checkpoint state (" + e.what() + ")");
  }
}

}  // namespace graybox::tasks
