#include "dac/meta_trainer.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/statistics.hpp"

namespace graybox::dac {

using nlohmann::json;

// One env with its reset stream and what its last step produced.
struct MetaTrainer::EnvSlot {
  ControlEnv env;
  core::Rng resets;
  // The last step's results, filled on the worker and read on the calling thread.
  double reward = 0;
  bool ended = false, crashed = false;
  std::int64_t minibatches = 0, length = 0;
  double episode_return = 0, final_train_loss = 0, final_val_loss = 0;

  EnvSlot(const MetaTrainConfig& c, std::size_t index)
      : env(c.instances, c.control), resets(core::derive_seed(c.seed, core::Stream::kEnv, index)) {}
};

MetaTrainer::MetaTrainer(const MetaTrainConfig& config) : config_(config), hp_(config.hyperparameters) {
  if (config_.num_envs < 1) throw std::invalid_argument("num_envs: must be >= 1");
  for (int e = 0; e < config_.num_envs; ++e) envs_.push_back(std::make_unique<EnvSlot>(config_, e));
  const envs::EnvSpec& spec = envs_.front()->env.spec();
  agents::AgentShape shape;
  shape.obs_dim = spec.obs_dim;
  shape.act_dim = spec.act_dim;
  shape.num_envs = config_.num_envs;
  shape.act_low = spec.act_low;
  shape.act_high = spec.act_high;
  agent_ = std::make_unique<agents::PpoAgent>(shape, config_.ppo, config_.seed);
  agent_->check_hyperparameters(hp_);
  obs_.assign(static_cast<std::size_t>(config_.num_envs * spec.obs_dim), 0.0);
  tbb::task_arena arena(config_.num_threads > 0 ? config_.num_threads : tbb::task_arena::automatic);
  arena.execute([&] {
    tbb::parallel_for(0, config_.num_envs, [&](int e) {
      reset_env(*envs_[static_cast<std::size_t>(e)], obs_.data() + static_cast<std::size_t>(e) * spec.obs_dim);
    });
  });
  agent_->begin(obs_.data(), config_.num_envs);
}

MetaTrainer::~MetaTrainer() = default;

void MetaTrainer::reset_env(EnvSlot& slot, double* obs) { slot.env.reset(slot.resets.next_u64(), obs); }

void MetaTrainer::set_hyperparameters(const core::Hyperparameters& hp) {
  agent_->check_hyperparameters(hp);
  hp_ = hp;
}

bool MetaTrainer::finished() const {
  return diverged_ || global_step_ + agent_->iteration_steps(hp_) * config_.num_envs > config_.total_steps;
}

void MetaTrainer::train(std::int64_t budget, core::MetricSink& sink) {
  const std::int64_t target = global_step_ + budget;
  while (global_step_ < target && iterate(sink)) {
  }
}

double MetaTrainer::recent_return() const {
  if (recent_returns_.empty()) return std::nan("");
  double sum = 0;
  for (const double r : recent_returns_) sum += r;
  return sum / static_cast<double>(recent_returns_.size());
}

bool MetaTrainer::iterate(core::MetricSink& sink) {
  if (finished()) return false;
  const int n = config_.num_envs;
  const envs::EnvSpec& spec = envs_.front()->env.spec();
  const int obs_dim = spec.obs_dim, act_dim = spec.act_dim;
  const std::int64_t steps = agent_->iteration_steps(hp_);
  std::vector<double> actions(static_cast<std::size_t>(n * act_dim)), next_obs(obs_.size()), final_obs(obs_.size());
  std::vector<double> rewards(static_cast<std::size_t>(n));
  std::vector<std::uint8_t> terminated(static_cast<std::size_t>(n)), truncated(static_cast<std::size_t>(n), 0);
  tbb::task_arena arena(config_.num_threads > 0 ? config_.num_threads : tbb::task_arena::automatic);
  const auto start = std::chrono::steady_clock::now();
  std::int64_t minibatches_before = minibatches_;

  for (std::int64_t t = 0; t < steps && !diverged_; ++t) {
    agent_->act(obs_.data(), n, hp_, actions.data());
    arena.execute([&] {
      tbb::parallel_for(tbb::blocked_range<int>(0, n, 1), [&](const tbb::blocked_range<int>& range) {
        for (int e = range.begin(); e != range.end(); ++e) {
          EnvSlot& slot = *envs_[static_cast<std::size_t>(e)];
          double* row = next_obs.data() + static_cast<std::size_t>(e) * obs_dim;
          const std::int64_t before = slot.env.minibatches_done();
          const envs::StepResult r = slot.env.step(actions.data() + static_cast<std::size_t>(e) * act_dim, row);
          slot.minibatches = slot.env.minibatches_done() - before;
          slot.reward = r.reward;
          slot.ended = r.terminated || r.truncated;
          if (!slot.ended) continue;
          std::copy(row, row + obs_dim, final_obs.data() + static_cast<std::size_t>(e) * obs_dim);
          slot.crashed = slot.env.crashed();
          slot.length = slot.env.episode_length();
          slot.episode_return = slot.env.episode_return();
          slot.final_train_loss = slot.env.last_train_loss();
          slot.final_val_loss = slot.env.last_val_loss();
          reset_env(slot, row);
        }
      });
    });
    global_step_ += n;
    for (int e = 0; e < n; ++e) {
      const EnvSlot& slot = *envs_[static_cast<std::size_t>(e)];
      rewards[static_cast<std::size_t>(e)] = slot.reward;
      terminated[static_cast<std::size_t>(e)] = slot.ended ? 1 : 0;
      minibatches_ += slot.minibatches;
      if (!slot.ended) continue;
      ++episodes_;
      if (slot.crashed) ++crashed_;
      recent_returns_.push_back(slot.episode_return);
      if (recent_returns_.size() > 20) recent_returns_.pop_front();
      sink.metric(global_step_, "charts/episodic_return", slot.episode_return);
      sink.metric(global_step_, "charts/episodic_length", static_cast<double>(slot.length));
      sink.metric(global_step_, "control/crashed", slot.crashed ? 1.0 : 0.0);
      if (!slot.crashed) {
        sink.metric(global_step_, "control/final_train_loss", slot.final_train_loss);
        sink.metric(global_step_, "control/final_val_loss", slot.final_val_loss);
      }
    }
    agents::Transition transition;
    transition.n = n;
    transition.obs = next_obs.data();
    transition.final_obs = final_obs.data();
    transition.rewards = rewards.data();
    transition.terminated = terminated.data();
    transition.truncated = truncated.data();
    agent_->observe(transition, hp_);
    obs_ = next_obs;
    if (agent_->update_due(hp_)) {
      // The planned total counts control steps, as CleanRL's annealing counts env steps.
      if (!agent_->update(hp_, agents::UpdateContext{global_step_, config_.total_steps})) {
        diverged_ = true;
        sink.event(global_step_, "diverged", "non-finite PPO loss or parameters (" + agent_->divergence() + ")");
      }
    }
  }
  ++iteration_;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  agent_->report(global_step_, sink);
  sink.metric(global_step_, "charts/SPS", seconds > 0 ? static_cast<double>(steps * n) / seconds : 0.0);
  sink.metric(global_step_, "control/minibatches_per_second",
              seconds > 0 ? static_cast<double>(minibatches_ - minibatches_before) / seconds : 0.0);
  sink.metric(global_step_, "control/minibatches", static_cast<double>(minibatches_));
  return true;
}

core::EvalResult MetaTrainer::evaluate(int episodes) {
  core::EvalResult result;
  ControlEnv env(config_.instances, config_.control);
  std::vector<double> obs(static_cast<std::size_t>(env.spec().obs_dim)), action(static_cast<std::size_t>(env.spec().act_dim));
  for (int k = 0; k < episodes; ++k) {
    env.reset_instance(static_cast<std::size_t>(k) % config_.instances.size(),
                       core::derive_seed(config_.seed, core::Stream::kEval, static_cast<std::uint64_t>(k)), obs.data());
    while (!env.done()) {
      agent_->act_deterministic(obs.data(), 1, action.data());
      env.step(action.data(), obs.data());
    }
    result.returns.push_back(env.episode_return());
    result.lengths.push_back(env.episode_length());
  }
  result.mean = episodes > 0 ? core::mean(result.returns) : std::nan("");
  std::vector<double> squares;
  for (const double r : result.returns) squares.push_back((r - result.mean) * (r - result.mean));
  result.std = episodes > 0 ? std::sqrt(core::mean(squares)) : std::nan("");
  return result;
}

agents::PpoPolicy MetaTrainer::policy(const std::string& meta) const { return agent_->policy(meta); }

void MetaTrainer::reseed(std::uint64_t seed) {
  agent_->reseed(seed);
  for (std::size_t e = 0; e < envs_.size(); ++e) envs_[e]->resets.seed(core::derive_seed(seed, core::Stream::kEnv, e));
}

void MetaTrainer::copy_state_from(const core::Trainable&) {
  throw std::invalid_argument("copy_state_from: a meta-training run is not copied in memory (save and load it)");
}

void MetaTrainer::save(const std::string& dir) const {
  json state;
  state["format"] = 1;
  state["num_envs"] = config_.num_envs;
  state["global_step"] = global_step_;
  state["iteration"] = iteration_;
  state["episodes"] = episodes_;
  state["crashed_episodes"] = crashed_;
  state["minibatches"] = minibatches_;
  state["recent_returns"] = std::vector<double>(recent_returns_.begin(), recent_returns_.end());
  state["hyperparameters"] = hp_.values();
  state["env_obs"] = obs_;  // the raw observations ("obs" is the agent's normalised copy)
  json resets = json::array();
  for (const auto& slot : envs_) resets.push_back(slot->resets.state());
  state["resets"] = resets;
  agent_->save(dir, state);
  for (std::size_t e = 0; e < envs_.size(); ++e) {
    const std::string env_dir = dir + "/env_" + std::to_string(e);
    std::filesystem::create_directories(env_dir);
    envs_[e]->env.save(env_dir);
  }
  core::write_file_atomic(dir + "/state.json", state.dump(1));
}

void MetaTrainer::load(const std::string& dir) {
  const std::string path = dir + "/state.json";
  try {
    const json state = json::parse(core::read_file(path));
    if (state.at("num_envs").get<int>() != config_.num_envs) {
      throw core::UserError(path + ": the checkpoint has " + std::to_string(state.at("num_envs").get<int>()) +
                            " envs, not this config's " + std::to_string(config_.num_envs));
    }
    agent_->load(dir, state);
    global_step_ = state.at("global_step").get<std::int64_t>();
    iteration_ = state.at("iteration").get<std::int64_t>();
    episodes_ = state.at("episodes").get<std::int64_t>();
    crashed_ = state.at("crashed_episodes").get<std::int64_t>();
    minibatches_ = state.at("minibatches").get<std::int64_t>();
    const auto recent = state.at("recent_returns").get<std::vector<double>>();
    recent_returns_.assign(recent.begin(), recent.end());
    hp_ = core::Hyperparameters(state.at("hyperparameters").get<std::map<std::string, double>>());
    obs_ = state.at("env_obs").get<std::vector<double>>();
    const json& resets = state.at("resets");
    if (obs_.size() != static_cast<std::size_t>(config_.num_envs * ControlEnv::kObsDim) ||
        resets.size() != envs_.size()) {
      throw std::runtime_error("inconsistent sizes");
    }
    for (std::size_t e = 0; e < envs_.size(); ++e) {
      envs_[e]->resets.set_state(resets.at(e).get<std::string>());
      envs_[e]->env.load(dir + "/env_" + std::to_string(e));
    }
    diverged_ = false;  // checkpoints are written from finite states only
  } catch (const core::UserError&) {
    throw;
  } catch (const std::exception& e) {
    throw core::UserError(path + ": not a valid checkpoint state (" + e.what() + ")");
  }
}

}  // namespace graybox::dac
