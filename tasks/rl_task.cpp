#include "tasks/rl_task.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/files.hpp"
#include "envs/env_state_json.hpp"
#include "optim/schedule_config.hpp"
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
  s.add_string("agent.algo", "ppo", "the learning algorithm", {"ppo"});
  agents::add_ppo_schema(s);
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
  c.network = agents::ppo_network_config(config);
  c.normalize_obs = config.get_bool("agent.normalize_obs");
  c.normalize_reward = config.get_bool("agent.normalize_reward");
  c.obs_clip = config.get_float("agent.obs_clip");
  c.reward_clip = config.get_float("agent.reward_clip");
  c.hyperparameters = agents::ppo_hyperparameters(config);
  c.lr_schedule = optim::schedule_spec(config, "agent.lr_schedule.");
  if (c.lr_schedule.type != "auto") {
    // A length of 0 means the whole run.
    if (c.lr_schedule.duration == 0.0) {
      c.lr_schedule.duration = std::max(1.0, static_cast<double>(c.total_steps) - c.lr_schedule.warmup);
    }
    optim::check_schedule(config, "agent.lr_schedule.", c.lr_schedule);
  }

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

RlTask::RlTask(const RlTaskConfig& config) : config_(config), hp_(config.hyperparameters) {
  agents::check_ppo_hyperparameters(hp_);
  if (config.lr_schedule.type != "auto") lr_schedule_ = optim::make_schedule(config.lr_schedule);
  vec_ = std::make_unique<envs::VecEnv>(config.env_id, config.env_options, config.num_envs,
                                        config.seed, config.num_threads);
  const auto& spec = vec_->spec();
  agent_ = std::make_unique<agents::PpoAgent>(
      spec.obs_dim, spec.act_dim, config.network,
      core::derive_seed(config.seed, core::Stream::kInit));
  obs_norm_ = agents::ObsNormalizer(static_cast<std::size_t>(spec.obs_dim), config.obs_clip,
                                    config.normalize_obs);
  reward_scaler_ = agents::RewardScaler(static_cast<std::size_t>(config.num_envs),
                                        config.reward_clip, config.normalize_reward);
  rng_.seed(core::derive_seed(config.seed, core::Stream::kAgent));

  obs_raw_ = vec_->reset();
  obs_.resize(obs_raw_.size());
  obs_norm_.update(obs_raw_.data(), static_cast<std::size_t>(config.num_envs));
  obs_norm_.normalize(obs_raw_.data(), static_cast<std::size_t>(config.num_envs), obs_.data());
  next_done_.assign(static_cast<std::size_t>(config.num_envs), 0.0f);
}

RlTask::~RlTask() = default;

void RlTask::set_hyperparameters(const core::Hyperparameters& hp) {
  agents::check_ppo_hyperparameters(hp);
  hp_ = hp;
}

std::int64_t RlTask::batch_size() const { return hp_.get_int("num_steps") * config_.num_envs; }

bool RlTask::finished() const { return diverged_ || global_step_ + batch_size() > config_.total_steps; }

double RlTask::learning_rate_now() const {
  const double lr = hp_.get("learning_rate");
  if (lr_schedule_) return lr * lr_schedule_->value(static_cast<double>(global_step_));
  if (!hp_.get_bool("anneal_lr")) return lr;
  // CleanRL: frac = 1 - (iteration - 1) / num_iterations, num_iterations = total // batch,
  // i.e. a linear schedule from 1 to 0 over the planned steps, evaluated at the iteration's
  // first step. Counted in steps, so a controller may change num_steps mid-run.
  const std::int64_t batch = batch_size();
  const double planned = static_cast<double>((config_.total_steps / batch) * batch);
  if (planned <= 0) return 0.0;
  optim::ScheduleSpec linear;
  linear.type = "linear";
  linear.start = 1.0;
  linear.end = 0.0;
  linear.duration = planned;
  return std::max(0.0, optim::make_schedule(linear)->value(static_cast<double>(global_step_))) * lr;
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
  const auto& spec = vec_->spec();
  const int n = config_.num_envs;
  const int obs_dim = spec.obs_dim, act_dim = spec.act_dim;
  const int num_steps = static_cast<int>(hp_.get_int("num_steps"));
  const double gamma = hp_.get("gamma");
  const bool bootstrap = hp_.get_bool("bootstrap_truncated");
  const double lr = learning_rate_now();
  buffer_.resize(num_steps, n, obs_dim, act_dim);

  std::vector<float> actions(static_cast<std::size_t>(n * act_dim));
  std::vector<double> env_actions(actions.size());
  std::vector<float> final_obs_norm(static_cast<std::size_t>(obs_dim));
  const auto start = std::chrono::steady_clock::now();

  for (int t = 0; t < num_steps; ++t) {
    const std::size_t row = static_cast<std::size_t>(t) * n;
    std::copy(obs_.begin(), obs_.end(), buffer_.obs.begin() + static_cast<std::ptrdiff_t>(row * obs_dim));
    std::copy(next_done_.begin(), next_done_.end(), buffer_.dones.begin() + static_cast<std::ptrdiff_t>(row));
    agent_->act(obs_.data(), n, rng_, actions.data(), buffer_.logprobs.data() + row,
                buffer_.values.data() + row);
    std::copy(actions.begin(), actions.end(), buffer_.actions.begin() + static_cast<std::ptrdiff_t>(row * act_dim));
    // The env receives the action clipped to its bounds; the log-prob keeps the raw sample.
    for (int e = 0; e < n; ++e) {
      for (int j = 0; j < act_dim; ++j) {
        const std::size_t k = static_cast<std::size_t>(e * act_dim + j);
        env_actions[k] = std::clamp(static_cast<double>(actions[k]), spec.act_low[j], spec.act_high[j]);
      }
    }
    const envs::VecStepResult& result = vec_->step(env_actions);
    global_step_ += n;

    std::vector<double> rewards = result.rewards;
    reward_scaler_.scale(rewards.data(), result.terminated.data(), gamma);
    for (int e = 0; e < n; ++e) {
      if (bootstrap && result.truncated[e] && !result.terminated[e]) {
        float v = 0.0f;
        obs_norm_.normalize(result.final_obs.data() + static_cast<std::size_t>(e) * obs_dim, 1,
                            final_obs_norm.data());
        agent_->value(final_obs_norm.data(), 1, &v);
        rewards[e] += gamma * v;
      }
      buffer_.rewards[row + e] = static_cast<float>(rewards[e]);
      next_done_[e] = (result.terminated[e] || result.truncated[e]) ? 1.0f : 0.0f;
    }
    obs_raw_ = result.obs;
    obs_norm_.update(obs_raw_.data(), static_cast<std::size_t>(n));
    obs_norm_.normalize(obs_raw_.data(), static_cast<std::size_t>(n), obs_.data());

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
  }

  const auto rollout_end = std::chrono::steady_clock::now();
  rollout_seconds_ += std::chrono::duration<double>(rollout_end - start).count();
  std::vector<float> next_value(static_cast<std::size_t>(n));
  agent_->value(obs_.data(), n, next_value.data());
  buffer_.compute_gae(next_value, next_done_, gamma, hp_.get("gae_lambda"));
  const agents::PpoUpdateStats stats = agent_->update(buffer_, hp_, lr, rng_);
  ++iteration_;
  update_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - rollout_end).count();

  // A non-finite loss or parameter ends the run as diverged: recorded, never a crash, and the
  // run stops instead of training on garbage (a population rolls such a member back).
  if (!std::isfinite(stats.policy_loss) || !std::isfinite(stats.value_loss) ||
      !std::isfinite(agent_->parameter_checksum())) {
    diverged_ = true;
    sink.event(global_step_, "diverged",
               "non-finite loss or parameters after update " + std::to_string(iteration_) +
                   " (policy loss " + std::to_string(stats.policy_loss) + ", value loss " +
                   std::to_string(stats.value_loss) + ")");
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sink.metric(global_step_, "charts/learning_rate", stats.learning_rate);
  sink.metric(global_step_, "losses/value_loss", stats.value_loss);
  sink.metric(global_step_, "losses/policy_loss", stats.policy_loss);
  sink.metric(global_step_, "losses/entropy", stats.entropy);
  sink.metric(global_step_, "losses/old_approx_kl", stats.old_approx_kl);
  sink.metric(global_step_, "losses/approx_kl", stats.approx_kl);
  sink.metric(global_step_, "losses/clipfrac", stats.clipfrac);
  sink.metric(global_step_, "losses/explained_variance", stats.explained_variance);
  sink.metric(global_step_, "charts/SPS", seconds > 0 ? static_cast<double>(num_steps * n) / seconds : 0.0);
  return true;
}

core::EvalResult RlTask::evaluate(int episodes) { return evaluate(episodes, EvalObserver()); }

core::EvalResult RlTask::evaluate(int episodes, const EvalObserver& observer) {
  optim::set_torch_threads(config_.torch_threads);
  core::EvalResult result;
  auto env = envs::make_env(config_.env_id, config_.env_options);
  const auto& spec = env->spec();
  std::vector<double> obs(static_cast<std::size_t>(spec.obs_dim)), action(static_cast<std::size_t>(spec.act_dim));
  std::vector<float> obs_norm(obs.size()), mean(action.size());
  for (int k = 0; k < episodes; ++k) {
    env->reset(core::derive_seed(config_.seed, core::Stream::kEval, static_cast<std::uint64_t>(k)), obs.data());
    if (observer) observer(*env, k);
    for (;;) {
      obs_norm_.normalize(obs.data(), 1, obs_norm.data());  // frozen statistics
      agent_->act_deterministic(obs_norm.data(), 1, mean.data());
      for (int j = 0; j < spec.act_dim; ++j) {
        action[j] = std::clamp(static_cast<double>(mean[j]), spec.act_low[j], spec.act_high[j]);
      }
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
  std::vector<float> out(static_cast<std::size_t>(config_.num_envs * vec_->spec().act_dim));
  agent_->act_deterministic(obs_.data(), config_.num_envs, out.data());
  return out;
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
  agent_->copy_from(*o->agent_);
  vec_->set_state(o->vec_->state());
  obs_norm_.rms = o->obs_norm_.rms;
  reward_scaler_.rms = o->reward_scaler_.rms;
  reward_scaler_.returns = o->reward_scaler_.returns;
  rng_ = o->rng_;
  obs_raw_ = o->obs_raw_;
  obs_ = o->obs_;
  next_done_ = o->next_done_;
  global_step_ = o->global_step_;
  iteration_ = o->iteration_;
  episodes_ = o->episodes_;
  unstable_ = o->unstable_;
  recent_returns_ = o->recent_returns_;
  hp_ = o->hp_;
  diverged_ = o->diverged_;
}

void RlTask::reseed(std::uint64_t seed) {
  rng_.seed(core::derive_seed(seed, core::Stream::kAgent));
  std::vector<envs::EnvState> states = vec_->state();
  for (std::size_t k = 0; k < states.size(); ++k) {
    states[k].rng = core::Rng(core::derive_seed(seed, core::Stream::kEnv, k)).state();
  }
  vec_->set_state(states);
}

namespace {

json rms_to_json(const agents::RunningMeanStd& rms) {
  return json{{"mean", rms.mean}, {"var", rms.var}, {"count", rms.count}};
}

void rms_from_json(const json& j, agents::RunningMeanStd& rms) {
  const auto mean = j.at("mean").get<std::vector<double>>();
  const auto var = j.at("var").get<std::vector<double>>();
  if (mean.size() != rms.mean.size() || var.size() != rms.var.size()) {
    throw std::runtime_error("normaliser statistics have the wrong size");
  }
  rms.mean = mean;
  rms.var = var;
  rms.count = j.at("count").get<double>();
}

}  // namespace

void RlTask::save(const std::string& dir) const {
  agent_->save(dir + "/agent.pt");
  json state;
  state["format"] = 1;
  state["env_id"] = config_.env_id;
  state["num_envs"] = config_.num_envs;
  state["global_step"] = global_step_;
  state["iteration"] = iteration_;
  state["episodes"] = episodes_;
  state["unstable_episodes"] = unstable_;
  state["recent_returns"] = std::vector<double>(recent_returns_.begin(), recent_returns_.end());
  state["hyperparameters"] = hp_.values();
  state["obs_rms"] = rms_to_json(obs_norm_.rms);
  state["reward_rms"] = rms_to_json(reward_scaler_.rms);
  state["reward_returns"] = reward_scaler_.returns;
  state["rng"] = rng_.state();
  state["obs_raw"] = obs_raw_;
  state["obs"] = obs_;
  state["next_done"] = next_done_;
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
    agent_->load(dir + "/agent.pt");
    global_step_ = state.at("global_step").get<std::int64_t>();
    iteration_ = state.at("iteration").get<std::int64_t>();
    episodes_ = state.at("episodes").get<std::int64_t>();
    unstable_ = state.at("unstable_episodes").get<std::int64_t>();
    const auto recent = state.at("recent_returns").get<std::vector<double>>();
    recent_returns_.assign(recent.begin(), recent.end());
    hp_ = core::Hyperparameters(state.at("hyperparameters").get<std::map<std::string, double>>());
    rms_from_json(state.at("obs_rms"), obs_norm_.rms);
    rms_from_json(state.at("reward_rms"), reward_scaler_.rms);
    reward_scaler_.returns = state.at("reward_returns").get<std::vector<double>>();
    rng_.set_state(state.at("rng").get<std::string>());
    obs_raw_ = state.at("obs_raw").get<std::vector<double>>();
    obs_ = state.at("obs").get<std::vector<float>>();
    next_done_ = state.at("next_done").get<std::vector<float>>();
    std::vector<envs::EnvState> env_states;
    for (const auto& s : state.at("envs")) env_states.push_back(envs::env_state_from_json(s));
    if (static_cast<int>(env_states.size()) != config_.num_envs ||
        obs_raw_.size() != obs_.size() || next_done_.size() != static_cast<std::size_t>(config_.num_envs)) {
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
