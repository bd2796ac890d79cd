#include "agents/ppo_agent.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "agents/state_json.hpp"
#include "optim/schedule_config.hpp"

namespace graybox::agents {

using nlohmann::json;

PpoAgentConfig ppo_agent_config(const core::Config& config) {
  PpoAgentConfig c;
  c.network = ppo_network_config(config);
  c.normalize_obs = config.get_bool("agent.normalize_obs");
  c.normalize_reward = config.get_bool("agent.normalize_reward");
  c.obs_clip = config.get_float("agent.obs_clip");
  c.reward_clip = config.get_float("agent.reward_clip");
  c.lr_schedule = optim::schedule_spec(config, "agent.lr_schedule.");
  if (c.lr_schedule.type != "auto") {
    // A length of 0 means the whole run.
    if (c.lr_schedule.duration == 0.0) {
      c.lr_schedule.duration =
          std::max(1.0, static_cast<double>(config.get_int("total_steps")) - c.lr_schedule.warmup);
    }
    optim::check_schedule(config, "agent.lr_schedule.", c.lr_schedule);
  }
  return c;
}

PpoAgent::PpoAgent(const AgentShape& shape, const PpoAgentConfig& config, std::uint64_t seed)
    : shape_(shape), config_(config) {
  if (config.lr_schedule.type != "auto") lr_schedule_ = optim::make_schedule(config.lr_schedule);
  learner_ = std::make_unique<PpoLearner>(shape.obs_dim, shape.act_dim, config.network,
                                          core::derive_seed(seed, core::Stream::kInit));
  obs_norm_ = ObsNormalizer(static_cast<std::size_t>(shape.obs_dim), config.obs_clip, config.normalize_obs);
  reward_scaler_ = RewardScaler(static_cast<std::size_t>(shape.num_envs), config.reward_clip, config.normalize_reward);
  rng_.seed(core::derive_seed(seed, core::Stream::kAgent));
  obs_.assign(static_cast<std::size_t>(shape.num_envs * shape.obs_dim), 0.0f);
  next_done_.assign(static_cast<std::size_t>(shape.num_envs), 0.0f);
  actions_.assign(static_cast<std::size_t>(shape.num_envs * shape.act_dim), 0.0f);
}

void PpoAgent::check_hyperparameters(const core::Hyperparameters& hp) const { check_ppo_hyperparameters(hp); }

std::int64_t PpoAgent::iteration_steps(const core::Hyperparameters& hp) const { return hp.get_int("num_steps"); }

void PpoAgent::begin(const double* obs, int n) {
  obs_norm_.update(obs, static_cast<std::size_t>(n));
  obs_norm_.normalize(obs, static_cast<std::size_t>(n), obs_.data());
  std::fill(next_done_.begin(), next_done_.end(), 0.0f);
}

void PpoAgent::act(const double* obs, int n, const core::Hyperparameters& hp, double* actions) {
  const int obs_dim = shape_.obs_dim, act_dim = shape_.act_dim;
  if (cursor_ == 0) buffer_.resize(static_cast<int>(hp.get_int("num_steps")), n, obs_dim, act_dim);
  const std::size_t row = static_cast<std::size_t>(cursor_) * n;
  float* row_obs = buffer_.obs.data() + row * obs_dim;
  obs_norm_.normalize(obs, static_cast<std::size_t>(n), row_obs);
  std::copy(next_done_.begin(), next_done_.end(), buffer_.dones.begin() + static_cast<std::ptrdiff_t>(row));
  learner_->act(row_obs, n, rng_, actions_.data(), buffer_.logprobs.data() + row, buffer_.values.data() + row);
  std::copy(actions_.begin(), actions_.end(), buffer_.actions.begin() + static_cast<std::ptrdiff_t>(row * act_dim));
  // The env receives the action clipped to its bounds; the log-prob keeps the raw sample.
  for (int e = 0; e < n; ++e) {
    for (int j = 0; j < act_dim; ++j) {
      const std::size_t k = static_cast<std::size_t>(e * act_dim + j);
      actions[k] = std::clamp(static_cast<double>(actions_[k]), shape_.act_low[j], shape_.act_high[j]);
    }
  }
}

void PpoAgent::act_deterministic(const double* obs, int n, double* actions) {
  const int obs_dim = shape_.obs_dim, act_dim = shape_.act_dim;
  std::vector<float> row(static_cast<std::size_t>(obs_dim)), mean(static_cast<std::size_t>(act_dim));
  for (int i = 0; i < n; ++i) {
    obs_norm_.normalize(obs + static_cast<std::size_t>(i) * obs_dim, 1, row.data());  // frozen statistics
    learner_->act_deterministic(row.data(), 1, mean.data());
    for (int j = 0; j < act_dim; ++j) {
      actions[static_cast<std::size_t>(i) * act_dim + j] =
          std::clamp(static_cast<double>(mean[j]), shape_.act_low[j], shape_.act_high[j]);
    }
  }
}

void PpoAgent::observe(const Transition& t, const core::Hyperparameters& hp) {
  const int n = t.n, obs_dim = shape_.obs_dim;
  const double gamma = hp.get("gamma");
  const bool bootstrap = hp.get_bool("bootstrap_truncated");
  const std::size_t row = static_cast<std::size_t>(cursor_) * n;
  std::vector<double> rewards(t.rewards, t.rewards + n);
  reward_scaler_.scale(rewards.data(), t.terminated, gamma);
  std::vector<float> final_obs(static_cast<std::size_t>(obs_dim));
  for (int e = 0; e < n; ++e) {
    if (bootstrap && t.truncated[e] && !t.terminated[e]) {
      float v = 0.0f;
      obs_norm_.normalize(t.final_obs + static_cast<std::size_t>(e) * obs_dim, 1, final_obs.data());
      learner_->value(final_obs.data(), 1, &v);
      rewards[e] += gamma * v;
    }
    buffer_.rewards[row + e] = static_cast<float>(rewards[e]);
    next_done_[e] = (t.terminated[e] || t.truncated[e]) ? 1.0f : 0.0f;
  }
  obs_norm_.update(t.obs, static_cast<std::size_t>(n));
  obs_norm_.normalize(t.obs, static_cast<std::size_t>(n), obs_.data());
  ++cursor_;
}

bool PpoAgent::update_due(const core::Hyperparameters&) const { return cursor_ > 0 && cursor_ >= buffer_.num_steps; }

double PpoAgent::learning_rate(const core::Hyperparameters& hp, std::int64_t rollout_start,
                               std::int64_t total_steps) const {
  const double lr = hp.get("learning_rate");
  if (lr_schedule_) return lr * lr_schedule_->value(static_cast<double>(rollout_start));
  if (!hp.get_bool("anneal_lr")) return lr;
  // CleanRL: frac = 1 - (iteration - 1) / num_iterations, num_iterations = total // batch,
  // i.e. a linear schedule from 1 to 0 over the planned steps, evaluated at the iteration's
  // first step. Counted in steps, so a controller may change num_steps mid-run.
  const std::int64_t batch = hp.get_int("num_steps") * shape_.num_envs;
  const double planned = static_cast<double>((total_steps / batch) * batch);
  if (planned <= 0) return 0.0;
  optim::ScheduleSpec linear;
  linear.type = "linear";
  linear.start = 1.0;
  linear.end = 0.0;
  linear.duration = planned;
  return std::max(0.0, optim::make_schedule(linear)->value(static_cast<double>(rollout_start))) * lr;
}

bool PpoAgent::update(const core::Hyperparameters& hp, const UpdateContext& context) {
  const int n = shape_.num_envs;
  const std::int64_t rollout_start = context.global_step - static_cast<std::int64_t>(cursor_) * n;
  const double lr = learning_rate(hp, rollout_start, context.total_steps);
  std::vector<float> next_value(static_cast<std::size_t>(n));
  learner_->value(obs_.data(), n, next_value.data());
  buffer_.compute_gae(next_value, next_done_, hp.get("gamma"), hp.get("gae_lambda"));
  stats_ = learner_->update(buffer_, hp, lr, rng_);
  cursor_ = 0;
  reported_ = false;
  return std::isfinite(stats_.policy_loss) && std::isfinite(stats_.value_loss) &&
         std::isfinite(learner_->parameter_checksum());
}

std::string PpoAgent::divergence() const {
  return "policy loss " + std::to_string(stats_.policy_loss) + ", value loss " + std::to_string(stats_.value_loss);
}

void PpoAgent::report(std::int64_t step, core::MetricSink& sink) {
  if (reported_) return;
  reported_ = true;
  sink.metric(step, "charts/learning_rate", stats_.learning_rate);
  sink.metric(step, "losses/value_loss", stats_.value_loss);
  sink.metric(step, "losses/policy_loss", stats_.policy_loss);
  sink.metric(step, "losses/entropy", stats_.entropy);
  sink.metric(step, "losses/old_approx_kl", stats_.old_approx_kl);
  sink.metric(step, "losses/approx_kl", stats_.approx_kl);
  sink.metric(step, "losses/clipfrac", stats_.clipfrac);
  sink.metric(step, "losses/explained_variance", stats_.explained_variance);
}

void PpoAgent::reseed(std::uint64_t seed) { rng_.seed(core::derive_seed(seed, core::Stream::kAgent)); }

void PpoAgent::save(const std::string& dir, json& state) const {
  if (cursor_ != 0) throw std::logic_error("PpoAgent::save in the middle of a rollout");
  learner_->save(dir + "/agent.pt");
  state["obs_rms"] = rms_to_json(obs_norm_.rms);
  state["reward_rms"] = rms_to_json(reward_scaler_.rms);
  state["reward_returns"] = reward_scaler_.returns;
  state["rng"] = rng_.state();
  state["obs"] = obs_;
  state["next_done"] = next_done_;
}

void PpoAgent::load(const std::string& dir, const json& state) {
  learner_->load(dir + "/agent.pt");
  rms_from_json(state.at("obs_rms"), obs_norm_.rms);
  rms_from_json(state.at("reward_rms"), reward_scaler_.rms);
  reward_scaler_.returns = state.at("reward_returns").get<std::vector<double>>();
  rng_.set_state(state.at("rng").get<std::string>());
  obs_ = state.at("obs").get<std::vector<float>>();
  next_done_ = state.at("next_done").get<std::vector<float>>();
  if (obs_.size() != static_cast<std::size_t>(shape_.num_envs * shape_.obs_dim) ||
      next_done_.size() != static_cast<std::size_t>(shape_.num_envs) ||
      reward_scaler_.returns.size() != static_cast<std::size_t>(shape_.num_envs)) {
    throw std::runtime_error("inconsistent sizes");
  }
  cursor_ = 0;
  reported_ = true;
}

void PpoAgent::copy_state_from(const Agent& other) {
  const auto* o = dynamic_cast<const PpoAgent*>(&other);
  if (!o) throw std::invalid_argument("copy_state_from: the other agent is not a PPO agent");
  if (o == this) return;
  learner_->copy_from(*o->learner_);
  obs_norm_.rms = o->obs_norm_.rms;
  reward_scaler_.rms = o->reward_scaler_.rms;
  reward_scaler_.returns = o->reward_scaler_.returns;
  rng_ = o->rng_;
  obs_ = o->obs_;
  next_done_ = o->next_done_;
  cursor_ = o->cursor_;
  buffer_ = o->buffer_;
  stats_ = o->stats_;
  reported_ = o->reported_;
}

PpoPolicy PpoAgent::policy(const std::string& meta) const {
  return PpoPolicy(learner_->actor_inference(), obs_norm_, shape_.act_low, shape_.act_high, meta);
}

double PpoAgent::parameter_checksum() const { return learner_->parameter_checksum(); }

}  // namespace graybox::agents
