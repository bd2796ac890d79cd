#include "dac/control_env.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/error.hpp"
#include "core/files.hpp"

namespace graybox::dac {
ControlEnv::ControlEnv(std::vector<Instance> instances, ControlOptions options)
    : instances_(std::move(instances)), options_(options) {
  check_options(options_);
  if (instances_.empty()) throw std::invalid_argument("a control env needs at least one instance");
  std::int64_t longest = 0;
  for (const auto& in : instances_) longest = std::max(longest, in.budget);
  spec_.id = "SupervisedControl-v0";
  spec_.obs_dim = kObsDim;
  action_space(options_, spec_);
  spec_.max_episode_steps = static_cast<int>((longest + options_.control_interval - 1) / options_.control_interval);
}

ControlEnv::~ControlEnv() = default;

const ControlLoop& ControlEnv::loop() const {
  if (!loop_) throw std::logic_error("ControlEnv: reset the env first");
  return *loop_;
}

std::int64_t ControlEnv::minibatches_done() const { return task_ ? task_->steps_done() : 0; }

void ControlEnv::reset(std::uint64_t seed, double* obs) {
  core::Rng rng(core::derive_seed(seed, core::Stream::kEnv));
  const std::size_t index = static_cast<std::size_t>(rng.below(instances_.size()));
  reset_instance(index, rng.next_u64(), obs);
}

void ControlEnv::start_task(std::size_t index, std::uint64_t run_seed) {
  const Instance& in = instances_.at(index);
  index_ = index;
  run_seed_ = run_seed;
  const optim::Split& data = data_.get(in);
  const std::int64_t per_epoch = (data.train.size() + in.batch_size - 1) / in.batch_size;
  loop_.reset();
  task_ = std::make_unique<tasks::SupervisedTask>(task_config(in, run_seed, per_epoch), data);
  loop_ = std::make_unique<ControlLoop>(*task_, options_, in.budget);
}

void ControlEnv::reset_instance(std::size_t index, std::uint64_t run_seed, double* obs) {
  start_task(index, run_seed);
  loop_->start(instance().lr, instance().weight_decay);
  loop_->write_obs(obs);
}

envs::StepResult ControlEnv::step(const double* action, double* obs) {
  core::NullSink none;
  return step(action, obs, none);
}

envs::StepResult ControlEnv::step(const double* action, double* obs, core::MetricSink& sink) {
  if (!loop_ || loop_->done()) throw std::logic_error("ControlEnv::step: reset the env first (the episode has ended)");
  const envs::StepResult result = loop_->step(action, sink);
  loop_->write_obs(obs);
  return result;
}

void ControlEnv::save(const std::string& dir) const {
  if (!loop_) throw std::logic_error("ControlEnv::save before the first reset");
  nlohmann::json episode;
  episode["instance"] = instance().name;
  episode["index"] = index_;
  episode["run_seed"] = run_seed_;
  task_->save(dir);
  loop_->save(dir);
  core::write_file_atomic(dir + "/episode.json", episode.dump(1));
}

void ControlEnv::load(const std::string& dir) {
  const std::string path = dir + "/episode.json";
  std::size_t index = 0;
  std::uint64_t run_seed = 0;
  try {
    const nlohmann::json episode = nlohmann::json::parse(core::read_file(path));
    index = episode.at("index").get<std::size_t>();
    run_seed = episode.at("run_seed").get<std::uint64_t>();
    const std::string name = episode.at("instance").get<std::string>();
    if (index >= instances_.size() || instances_[index].name != name) {
      throw std::runtime_error("instance '" + name + "' is not in this instance set at position " + std::to_string(index));
    }
  } catch (const core::UserError&) {
    throw;
  } catch (const std::exception& e) {
    throw core::UserError(path + ": not a valid episode state (" + e.what() + ")");
  }
  start_task(index, run_seed);
  task_->load(dir);
  loop_->load(dir);
}

}  // namespace graybox::dac
