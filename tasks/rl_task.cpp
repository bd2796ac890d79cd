#include "tasks/rl_task.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/files.hpp"
#include "envs/env_state_json.hpp"
#include "optim/trainer.hpp"

namespace graybox::tasks {

using nlohmann::json;

void add_rl_schema(core::ConfigSchema& s) {
  s.add_int("seed", 1, "the experiment seed; every env, agent and controller derives its stream from it", 0, 9.0e15);
  s.add_int("total_steps", 1000000, "env steps to train for (all envs together)", 1, 9.0e15);
  s.add_string("env.id", "Hopper-v5", "the task, e.g. InvertedPendulum-v5 (graybox envs lists them)");
  s.add_int("env.num_envs", 1, "envs stepped together in one VecEnv", 1, 4096);
  s.add_int("env.num_threads", 1, "threads that step the envs (0: all cores); results do not depend on it", 0, 1024);
  s.add_string("env.model_path", "", "an MJCF file to use instead of the shipped model (same names)");
  s.allow_open_prefix("env.");  // task parameters such as env.ctrl_cost_weight
  s.add_int("torch_threads", 1, "LibTorch intra-op threads of the thread that trains (1 is fastest for these small networks)", 1, 256);
  agents::add_agent_schema(s);
}

RlTaskConfig rl_task_config(const core::Config& config) {
  RlTaskConfig c;
  c.seed = static_cast<std::uint64_t>(config.get_int("seed"));
  c.total_steps = config.get_int("total_steps");
  c.env_id = config.get_string("env.id");
  c.env_options.model_path = config.get_string("env.model_path");
  c.env_options.params = config.open_values("env.");
  c.num_envs = static_cast<int>(config.get_int("env.num_envs"));
  c.num_threads = static_cast<int>(config.get_int("env.num_threads"));
  c.torch_threads = static_cast<int>(config.get_int("torch_threads"));
  c.agent = agents::agent_spec(config);
  c.hyperparameters = agents::agent_hyperparameters(config);

  // Build one env now so that a bad id, model file or task parameter is reported against the
  // config key that caused it, before any run directory is written.
  try {
    envs::env_spec(c.env_id);
  } catch (const envs::EnvError& e) {
    config.fail("env.id", e.what());
  }
  try {
    envs::EnvOptions path_only;
    path_only.model_path = c.env_options.model_path;
    envs::make_env(c.env_id, path_only);
  } catch (const envs::EnvError& e) {
    config.fail("env.model_path", e.what());
  }
  try {
    envs::make_env(c.env_id, c.env_options);
  } catch (const envs::EnvError& e) {
    const std::string message = e.what();
    for (const auto& [name, value] : c.env_options.params) {
      if (message.find(name) != std::string::npos) config.fail("env." + name, message);
    }
    config.fail("env.id", message);
  }
  return c;
}

std::int64_t iteration_env_steps(const RlTaskConfig& config) {
  return config.hyperparameters.get_int(agents::iteration_key(config.agent.algo).substr(6)) * config.num_envs;
}

RlTask::RlTask(const RlTaskConfig& config) : config_(config), hp_(config.hyperparameters) {
  vec_ = std::make_unique<envs::VecEnv>(config.env_id, config.env_options, config.num_envs,
                                        config.seed, config.num_threads);
  const auto& spec = vec_->spec();
  agents::AgentShape shape;
  shape.obs_dim = spec.obs_dim;
  shape.act_dim = spec.act_dim;
  shape.num_envs = config.num_envs;
  shape.act_low = spec.act_low;
  shape.act_high = spec.act_high;
  agent_ = agents::make_agent(config.agent, shape, config.seed);
  agent_->check_hyperparameters(hp_);
  obs_raw_ = vec_->reset();
  agent_->begin(obs_raw_.data(), config.num_envs);
}

RlTask::~RlTask() = default;

void RlTask::set_hyperparameters(const core::Hyperparameters& hp) {
  agent_->check_hyperparameters(hp);
  hp_ = hp;
}

bool RlTask::finished() const {
  return diverged_ || global_step_ + agent_->iteration_steps(hp_) * config_.num_envs > config_.total_steps;
}

double RlTask::recent_return() const {
  if (recent_returns_.empty()) return std::nan("");
  double sum = 0;
  for (const double r : recent_returns_) sum += r;
  return sum / static_cast<double>(recent_returns_.size());
}

void RlTask::train(std::int64_t budget, core::MetricSink& sink) {
  const std::int64_t target = global_step_ + budget;
  while (global_step_ < target && iterate(sink)) {
  }
}

bool RlTask::iterate(core::MetricSink& sink) {
  if (finished()) return false;
  optim::set_torch_threads(config_.torch_threads);
  const int n = config_.num_envs;
  const std::int64_t steps = agent_->iteration_steps(hp_);
  std::vector<double> actions(static_cast<std::size_t>(n * vec_->spec().act_dim));
  const auto start = std::chrono::steady_clock::now();
  double update_seconds = 0.0;

  for (std::int64_t t = 0; t < steps && !diverged_; ++t) {
    agent_->act(obs_raw_.data(), n, hp_, actions.data());
    const envs::VecStepResult& result = vec_->step(actions);
    global_step_ += n;
    agents::Transition transition;
    transition.n = n;
    transition.obs = result.obs.data();
    transition.final_obs = result.final_obs.data();
    transition.rewards = result.rewards.data();
    transition.terminated = result.terminated.data();
    transition.truncated = result.truncated.data();
    agent_->observe(transition, hp_);
    obs_raw_ = result.obs;

    for (const auto& episode : result.episodes) {
      ++episodes_;
      sink.metric(global_step_, "charts/episodic_return", episode.episode_return);
      sink.metric(global_step_, "charts/episodic_length", static_cast<double>(episode.episode_length));
      recent_returns_.push_back(episode.episode_return);
      if (recent_returns_.size() > 10) recent_returns_.pop_front();
      if (episode.unstable) {
        ++unstable_;
        sink.event(global_step_, "unstable_episode",
                   "env " + std::to_string(episode.env_index) + " truncated after " +
                       std::to_string(episode.episode_length) + " steps (non-finite action or state)");
      }
    }

    if (agent_->update_due(hp_)) {
      const auto update_start = std::chrono::steady_clock::now();
      const bool finite = agent_->update(hp_, agents::UpdateContext{global_step_, config_.total_steps});
      update_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - update_start).count();
      // A non-finite loss or parameter ends the run as diverged: recorded, never a crash, and the
      // run stops instead of training on garbage (a population rolls such a member back).
      if (!finite) {
        diverged_ = true;
        sink.event(global_step_, "diverged",
                   "non-finite loss or parameters after update " + std::to_string(iteration_ + 1) + " (" +
                       agent_->divergence() + ")");
      }
    }
  }
  ++iteration_;
  if (!diverged_ && !std::isfinite(agent_->parameter_checksum())) {
    diverged_ = true;
    sink.event(global_step_, "diverged", "non-finite parameters after iteration " + std::to_string(iteration_));
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rollout_seconds_ += seconds - update_seconds;
  update_seconds_ += update_seconds;
  agent_->report(global_step_, sink);
  sink.metric(global_step_, "charts/SPS", seconds > 0 ? static_cast<double>(steps * n) / seconds : 0.0);
  return true;
}

core::EvalResult RlTask::evaluate(int episodes) { return evaluate(episodes, EvalObserver()); }

core::EvalResult RlTask::evaluate(int episodes, const EvalObserver& observer) {
  optim::set_torch_threads(config_.torch_threads);
  core::EvalResult result;
  auto env = envs::make_env(config_.env_id, config_.env_options);
  const auto& spec = env->spec();
  std::vector<double> obs(static_cast<std::size_t>(spec.obs_dim)), action(static_cast<std::size_t>(spec.act_dim));
  for (int k = 0; k < episodes; ++k) {
    env->reset(core::derive_seed(config_.seed, core::Stream::kEval, static_cast<std::uint64_t>(k)), obs.data());
    if (observer) observer(*env, k);
    for (;;) {
      agent_->act_deterministic(obs.data(), 1, action.data());
      const envs::StepResult step = env->step(action.data(), obs.data());
      if (observer) observer(*env, k);
      if (step.terminated || step.truncated) break;
    }
    result.returns.push_back(env->episode_return());
    result.lengths.push_back(env->episode_length());
  }
  double sum = 0;
  for (const double r : result.returns) sum += r;
  result.mean = episodes > 0 ? sum / episodes : std::nan("");
  double sq = 0;
  for (const double r : result.returns) sq += (r - result.mean) * (r - result.mean);
  result.std = episodes > 0 ? std::sqrt(sq / episodes) : std::nan("");
  return result;
}

std::vector<float> RlTask::current_mean_actions() {
  std::vector<double> actions(static_cast<std::size_t>(config_.num_envs * vec_->spec().act_dim));
  agent_->act_deterministic(obs_raw_.data(), config_.num_envs, actions.data());
  return std::vector<float>(actions.begin(), actions.end());
}

void RlTask::copy_state_from(const core::Trainable& other) {
  const auto* o = dynamic_cast<const RlTask*>(&other);
  if (!o) throw std::invalid_argument("copy_state_from: the other trainable is not an RL task");
  if (o == this) return;
  if (o->config_.env_id != config_.env_id || o->config_.num_envs != config_.num_envs) {
    throw std::invalid_argument("copy_state_from: the other task runs " + o->config_.env_id + " with " +
                                std::to_string(o->config_.num_envs) + " envs, not " + config_.env_id + " with " +
                                std::to_string(config_.num_envs));
  }
  agent_->copy_state_from(*o->agent_);
  vec_->set_state(o->vec_->state());
  obs_raw_ = o->obs_raw_;
  global_step_ = o->global_step_;
  iteration_ = o->iteration_;
  episodes_ = o->episodes_;
  unstable_ = o->unstable_;
  recent_returns_ = o->recent_returns_;
  hp_ = o->hp_;
  diverged_ = o->diverged_;
}

void RlTask::reseed(std::uint64_t seed) {
  agent_->reseed(seed);
  std::vector<envs::EnvState> states = vec_->state();
  for (std::size_t k = 0; k < states.size(); ++k) {
    states[k].rng = core::Rng(core::derive_seed(seed, core::Stream::kEnv, k)).state();
  }
  vec_->set_state(states);
}

void RlTask::save(const std::string& dir) const {
  json state;
  state["format"] = 1;
  state["algo"] = config_.agent.algo;
  state["env_id"] = config_.env_id;
  state["num_envs"] = config_.num_envs;
  state["global_step"] = global_step_;
  state["iteration"] = iteration_;
  state["episodes"] = episodes_;
  state["unstable_episodes"] = unstable_;
  state["recent_returns"] = std::vector<double>(recent_returns_.begin(), recent_returns_.end());
  state["hyperparameters"] = hp_.values();
  state["obs_raw"] = obs_raw_;
  agent_->save(dir, state);
  json env_states = json::array();
  for (const auto& s : vec_->state()) env_states.push_back(envs::to_json(s));
  state["envs"] = env_states;
  core::write_file_atomic(dir + "/state.json", state.dump(1));
}

void RlTask::load(const std::string& dir) {
  const std::string path = dir + "/state.json";
  json state;
  try {
    state = json::parse(core::read_file(path));
  } catch (const json::exception& e) {
    throw core::UserError(path + ": not a valid checkpoint state (" + e.what() + ")");
  }
  try {
    if (state.at("env_id").get<std::string>() != config_.env_id ||
        state.at("num_envs").get<int>() != config_.num_envs) {
      throw core::UserError(path + ": the checkpoint is for " + state.at("env_id").get<std::string>() +
                            " with " + std::to_string(state.at("num_envs").get<int>()) +
                            " envs, not this config's " + config_.env_id + " with " +
                            std::to_string(config_.num_envs));
    }
    const std::string algo = state.value("algo", std::string("ppo"));
    if (algo != config_.agent.algo) {
      throw core::UserError(path + ": the checkpoint is of agent.algo " + algo + ", not this config's " +
                            config_.agent.algo);
    }
    agent_->load(dir, state);
    global_step_ = state.at("global_step").get<std::int64_t>();
    iteration_ = state.at("iteration").get<std::int64_t>();
    episodes_ = state.at("episodes").get<std::int64_t>();
    unstable_ = state.at("unstable_episodes").get<std::int64_t>();
    const auto recent = state.at("recent_returns").get<std::vector<double>>();
    recent_returns_.assign(recent.begin(), recent.end());
    hp_ = core::Hyperparameters(state.at("hyperparameters").get<std::map<std::string, double>>());
    obs_raw_ = state.at("obs_raw").get<std::vector<double>>();
    std::vector<envs::EnvState> env_states;
    for (const auto& s : state.at("envs")) env_states.push_back(envs::env_state_from_json(s));
    if (static_cast<int>(env_states.size()) != config_.num_envs ||
        obs_raw_.size() != static_cast<std::size_t>(config_.num_envs * vec_->spec().obs_dim)) {
      throw std::runtime_error("inconsistent sizes");
    }
    vec_->set_state(env_states);
    diverged_ = false;  // checkpoints are written from finite states only
  } catch (const core::UserError&) {
    throw;
  } catch (const std::exception& e) {
    throw core::UserError(path + ": not a valid checkpoint state (" + e.what() + ")");
  }
}

}  // namespace graybox::tasks
