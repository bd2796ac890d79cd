#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "agents/off_policy_hyperparameters.hpp"
#include "agents/sac.hpp"
#include "agents/td3.hpp"
#include "core/config.hpp"
#include "core/error.hpp"

namespace graybox::agents {
namespace {

AgentShape shape() {
  AgentShape s;
  s.obs_dim = 3;
  s.act_dim = 2;
  s.num_envs = 1;
  s.act_low = {-1.0, -2.0};
  s.act_high = {1.0, 2.0};
  return s;
}

OffPolicyConfig small() {
  OffPolicyConfig c;
  c.hidden_sizes = {16, 16};
  c.buffer_size = 64;
  return c;
}

// The schema's defaults (CleanRL's) with a few changes for a tiny budget.
core::Hyperparameters hyperparameters(const std::string& algo, std::vector<std::string> sets) {
  core::ConfigSchema s;
  s.add_string("agent.algo", "sac", "", {"ppo", "sac", "td3"});
  add_off_policy_schema(s);
  sets.push_back("agent.algo=" + algo);
  const core::Config config = core::Config::parse("", "test", s, sets);
  core::Hyperparameters hp;
  for (const auto& name : algo == "sac" ? sac_hyperparameter_names() : td3_hyperparameter_names()) {
    const std::string key = "agent." + name;
    const auto type = s.find(key)->type;
    hp.set(name, type == core::FieldType::kInt    ? static_cast<double>(config.get_int(key))
                 : type == core::FieldType::kBool ? (config.get_bool(key) ? 1.0 : 0.0)
                                                  : config.get_float(key));
  }
  return hp;
}

// Feeds `steps` transitions of a fixed set of 8 observations (reward 1 + obs[0] + action[0] / 2).
void feed(OffPolicyAgent& agent, const core::Hyperparameters& hp, int steps) {
  std::vector<double> obs(3), next(3), action(2), reward(1);
  const std::uint8_t no[1] = {0};
  for (int t = 0; t < steps; ++t) {
    for (int j = 0; j < 3; ++j) obs[j] = std::sin(1.0 + (t % 8) * (j + 1));
    for (int j = 0; j < 3; ++j) next[j] = std::cos(1.0 + (t % 8) * (j + 1));
    agent.act(obs.data(), 1, hp, action.data());
    reward[0] = 1.0 + obs[0] + 0.5 * action[0];
    Transition tr;
    tr.n = 1;
    tr.obs = next.data();
    tr.final_obs = next.data();
    tr.rewards = reward.data();
    tr.terminated = no;
    tr.truncated = no;
    agent.observe(tr, hp);
  }
}

// With gamma 0 the critics' target is the reward, fixed: both losses fall on the same batches.
template <typename AgentT>
void critic_losses_fall(const std::string& algo) {
  const core::Hyperparameters hp = hyperparameters(algo, {"agent.gamma=0", "agent.learning_starts=0", "agent.batch_size=32"});
  AgentT agent(shape(), small(), 3);
  feed(agent, hp, 40);
  struct Losses : core::MetricSink {
    std::map<std::string, double> last;
    void metric(std::int64_t, const std::string& name, double value) override { last[name] = value; }
    void event(std::int64_t, const std::string&, const std::string&) override {}
  } first, later;
  ASSERT_TRUE(agent.update(hp, {}));
  agent.report(0, first);
  for (int k = 0; k < 300; ++k) ASSERT_TRUE(agent.update(hp, {}));
  agent.report(0, later);
  EXPECT_LT(later.last.at("losses/qf1_loss"), 0.5 * first.last.at("losses/qf1_loss"));
  EXPECT_LT(later.last.at("losses/qf2_loss"), 0.5 * first.last.at("losses/qf2_loss"));
}

TEST(Sac, EachCriticsLossFallsOnFixedTargets) { critic_losses_fall<SacAgent>("sac"); }
TEST(Td3, EachCriticsLossFallsOnFixedTargets) { critic_losses_fall<Td3Agent>("td3"); }

// target' = tau * online' + (1 - tau) * target, parameter by parameter.
template <typename AgentT>
void targets_move_by_tau(const std::string& algo, const std::vector<std::string>& sets, const std::string& online,
                         const std::string& target) {
  std::vector<std::string> all = sets;
  all.push_back("agent.tau=0.25");
  all.push_back("agent.learning_starts=0");
  all.push_back("agent.batch_size=16");
  const core::Hyperparameters hp = hyperparameters(algo, all);
  AgentT agent(shape(), small(), 4);
  feed(agent, hp, 20);
  ASSERT_TRUE(agent.update(hp, {}));
  const std::vector<float> before = agent.parameters_of(target);
  ASSERT_TRUE(agent.update(hp, {}));
  const std::vector<float> now = agent.parameters_of(online), after = agent.parameters_of(target);
  ASSERT_EQ(before.size(), after.size());
  double moved = 0;
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_NEAR(after[i], 0.25 * now[i] + 0.75 * before[i], 1e-6) << i;
    moved += std::abs(after[i] - before[i]);
  }
  EXPECT_GT(moved, 0.0);
}

TEST(Sac, TargetsMoveByExactlyTau) {
  targets_move_by_tau<SacAgent>("sac", {}, "qf1", "qf1_target");
  targets_move_by_tau<SacAgent>("sac", {}, "qf2", "qf2_target");
}
TEST(Td3, TargetsMoveByExactlyTau) {
  targets_move_by_tau<Td3Agent>("td3", {"agent.policy_frequency=1"}, "qf1", "qf1_target");
  targets_move_by_tau<Td3Agent>("td3", {"agent.policy_frequency=1"}, "actor", "target_actor");
}

// α falls while the policy's entropy is above the target and rises while it is below.
TEST(Sac, AlphaMovesTowardTheTargetEntropy) {
  for (const double scale : {50.0, -50.0}) {
    const core::Hyperparameters hp = hyperparameters(
        "sac", {"agent.learning_starts=0", "agent.batch_size=16", "agent.q_lr=0.01", "agent.policy_frequency=1", "agent.target_entropy_scale=" + std::to_string(scale)});
    SacAgent agent(shape(), small(), 5);
    feed(agent, hp, 20);
    EXPECT_DOUBLE_EQ(agent.alpha(), 1.0);  // log α starts at 0
    for (int k = 0; k < 20; ++k) ASSERT_TRUE(agent.update(hp, {}));
    if (scale > 0) {
      EXPECT_LT(agent.alpha(), 0.99);  // target -100: far below the entropy
    } else {
      EXPECT_GT(agent.alpha(), 1.01);  // target +100: unreachable
    }
  }
}

TEST(Td3, ActorUpdatesEveryPolicyFrequencySteps) {
  const core::Hyperparameters hp =
      hyperparameters("td3", {"agent.learning_starts=0", "agent.batch_size=8", "agent.policy_frequency=3"});
  Td3Agent agent(shape(), small(), 6);
  int expected = 0;
  for (int t = 0; t < 12; ++t) {
    feed(agent, hp, 1);
    if (t < 8) continue;  // a batch of transitions first
    const std::vector<float> actor = agent.parameters_of("actor");
    ASSERT_TRUE(agent.update(hp, {}));
    const bool due = agent.vector_step() % 3 == 0;
    expected += due ? 1 : 0;
    EXPECT_EQ(agent.parameters_of("actor") != actor, due) << t;
  }
  EXPECT_EQ(agent.actor_updates(), expected);
  EXPECT_GT(expected, 0);
}

TEST(Sac, ActorUpdatesPolicyFrequencyTimesEveryPolicyFrequencySteps) {
  const core::Hyperparameters hp =
      hyperparameters("sac", {"agent.learning_starts=0", "agent.batch_size=8", "agent.policy_frequency=2"});
  SacAgent agent(shape(), small(), 7);
  feed(agent, hp, 8);
  std::int64_t expected = 0;
  for (int t = 0; t < 6; ++t) {
    feed(agent, hp, 1);
    ASSERT_TRUE(agent.update(hp, {}));
    if (agent.vector_step() % 2 == 0) expected += 2;
  }
  EXPECT_EQ(agent.actor_updates(), expected);
}

// A truncated agent.pt is an error naming the file and the algorithm, and leaves the agent as it
// was; an agent of another algorithm is refused by copy_state_from.
template <typename AgentT>
void broken_file_and_foreign_copy(const std::string& algo, const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("graybox_broken_" + algo + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto hp = hyperparameters(algo, {"agent.learning_starts=4", "agent.batch_size=4"});
  AgentT agent(shape(), small(), 1);
  feed(agent, hp, 12);
  ASSERT_TRUE(agent.update(hp, {}));
  nlohmann::json state;
  agent.save(dir.string(), state);
  const std::string file = (dir / "agent.pt").string();
  std::filesystem::resize_file(file, std::filesystem::file_size(file) / 2);
  AgentT fresh(shape(), small(), 2);
  const double before = fresh.parameter_checksum();
  try {
    fresh.load(dir.string(), state);
    ADD_FAILURE() << "a truncated file loaded";
  } catch (const core::UserError& e) {
    EXPECT_NE(std::string(e.what()).find(file + ": not a valid " + name + " checkpoint"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fresh.parameter_checksum(), before);
  std::filesystem::remove_all(dir);

  SacAgent sac(shape(), small(), 1);
  Td3Agent td3(shape(), small(), 1);
  OffPolicyAgent& other = algo == "sac" ? static_cast<OffPolicyAgent&>(td3) : sac;
  try {
    agent.copy_state_from(other);
    ADD_FAILURE() << "copied from another algorithm";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "copy_state_from: the other agent is not a " + name + " agent");
  }
}

TEST(Sac, ABrokenCheckpointNamesItsFileAndAnotherAlgorithmIsNotCopied) {
  broken_file_and_foreign_copy<SacAgent>("sac", "SAC");
}
TEST(Td3, ABrokenCheckpointNamesItsFileAndAnotherAlgorithmIsNotCopied) {
  broken_file_and_foreign_copy<Td3Agent>("td3", "TD3");
}

// The float acting copy computes the actor's function (LibTorch sums in another order, so to
// float rounding) at the start, after updates changed the actor, after a load and after a copy;
// a stale copy (not refreshed after an actor update) fails the second check.
template <typename AgentT>
void expect_acting_copy_matches(AgentT& agent, const std::string& when) {
  std::vector<double> obs(3 * 4), fast(2 * 4), reference(2 * 4);
  for (std::size_t k = 0; k < obs.size(); ++k) obs[k] = 2.0 * std::sin(0.7 * static_cast<double>(k) + 0.3);
  agent.act_deterministic(obs.data(), 4, fast.data());
  agent.act_deterministic_reference(obs.data(), 4, reference.data());
  for (std::size_t k = 0; k < fast.size(); ++k) EXPECT_NEAR(fast[k], reference[k], 1e-5) << when << ", value " << k;
}

template <typename AgentT>
void acting_copy_follows_the_actor(const std::string& algo) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("graybox_acting_" + algo + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto hp = hyperparameters(algo, {"agent.learning_starts=4", "agent.batch_size=8", "agent.policy_frequency=1"});
  AgentT agent(shape(), small(), 5);
  expect_acting_copy_matches(agent, "at the start");
  feed(agent, hp, 12);
  std::vector<double> before(8), after(8), obs(12, 0.5);
  agent.act_deterministic(obs.data(), 4, before.data());
  for (int k = 0; k < 30; ++k) {
    ASSERT_TRUE(agent.update(hp, {}));
    feed(agent, hp, 1);
  }
  agent.act_deterministic(obs.data(), 4, after.data());
  EXPECT_NE(before, after) << "the updates changed the actor";
  expect_acting_copy_matches(agent, "after 30 updates");
  nlohmann::json state;
  agent.save(dir.string(), state);
  AgentT loaded(shape(), small(), 6);
  expect_acting_copy_matches(loaded, "another seed");
  loaded.load(dir.string(), state);
  expect_acting_copy_matches(loaded, "after a load");
  AgentT copy(shape(), small(), 7);
  copy.act_deterministic(obs.data(), 4, before.data());
  copy.copy_state_from(agent);
  copy.act_deterministic(obs.data(), 4, before.data());
  EXPECT_EQ(before, after) << "a copy acts as its donor";
  std::filesystem::remove_all(dir);
}

TEST(Sac, TheFloatActingCopyFollowsTheActor) { acting_copy_follows_the_actor<SacAgent>("sac"); }
TEST(Td3, TheFloatActingCopyFollowsTheActor) { acting_copy_follows_the_actor<Td3Agent>("td3"); }

// SAC's exploration through the float copy draws the same noise from the same stream as the
// LibTorch path, so two copies of one agent explore alike.
TEST(Sac, ExplorationThroughTheFloatCopyMatchesLibTorch) {
  const auto hp = hyperparameters("sac", {"agent.learning_starts=0", "agent.batch_size=8"});
  SacAgent agent(shape(), small(), 9);
  feed(agent, hp, 10);
  ASSERT_TRUE(agent.update(hp, {}));
  SacAgent twin(shape(), small(), 10);
  twin.copy_state_from(agent);
  std::vector<double> obs(3 * 4), fast(2 * 4), reference(2 * 4);
  for (std::size_t k = 0; k < obs.size(); ++k) obs[k] = std::cos(1.3 * static_cast<double>(k));
  for (int round = 0; round < 3; ++round) {
    agent.act(obs.data(), 4, hp, fast.data());
    twin.explore_reference(obs.data(), 4, reference.data());
    for (std::size_t k = 0; k < fast.size(); ++k) EXPECT_NEAR(fast[k], reference[k], 1e-5) << round << " " << k;
  }
}

// The hand-written update (MlpPass, gradients written out, fused Adam) and CleanRL's update
// through autograd (agent.autograd_update) agree to float rounding at every update: the losses,
// α, and every network including the targets, over 40 updates with actor updates and target
// moves, acting in between. A wrong gradient anywhere (a sign, a missing term) fails it.
template <typename AgentT>
void update_by_hand_matches_autograd(const std::string& algo, const std::vector<std::string>& networks) {
  const auto hp = hyperparameters(algo, {"agent.learning_starts=0", "agent.batch_size=16"});
  OffPolicyConfig autograd = small();
  autograd.autograd_update = true;
  AgentT by_hand(shape(), small(), 11), reference(shape(), autograd, 11);
  feed(by_hand, hp, 24);
  feed(reference, hp, 24);
  struct Last : core::MetricSink {
    std::map<std::string, double> values;
    void metric(std::int64_t, const std::string& name, double value) override { values[name] = value; }
    void event(std::int64_t, const std::string&, const std::string&) override {}
  };
  for (int k = 0; k < 40; ++k) {
    ASSERT_TRUE(by_hand.update(hp, {}));
    ASSERT_TRUE(reference.update(hp, {}));
    Last a, b;
    by_hand.report(k, a);
    reference.report(k, b);
    ASSERT_EQ(a.values.size(), b.values.size());
    for (const auto& [name, value] : b.values) {
      EXPECT_NEAR(a.values.at(name), value, 1e-4 * (1.0 + std::abs(value))) << name << " at update " << k;
    }
    feed(by_hand, hp, 1);
    feed(reference, hp, 1);
  }
  EXPECT_EQ(by_hand.actor_updates(), reference.actor_updates());
  EXPECT_GT(by_hand.actor_updates(), 0);
  for (const std::string& network : networks) {
    const std::vector<float> a = by_hand.parameters_of(network), b = reference.parameters_of(network);
    ASSERT_EQ(a.size(), b.size());
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(a[i] - b[i])));
    EXPECT_LT(worst, 1e-4) << network;
  }
}

TEST(Sac, TheUpdateByHandMatchesAutograd) {
  update_by_hand_matches_autograd<SacAgent>("sac", {"actor", "qf1", "qf2", "qf1_target", "qf2_target"});
}
TEST(Td3, TheUpdateByHandMatchesAutograd) {
  update_by_hand_matches_autograd<Td3Agent>("td3", {"actor", "target_actor", "qf1", "qf2", "qf1_target", "qf2_target"});
}

TEST(ReplayBuffer, TruncatedEpisodesKeepTheirFinalObservationAndWrapAround) {
  ReplayBuffer buffer(3, 1, 1);
  const double obs[2] = {1, 2}, act[2] = {0.5, -0.5}, rew[2] = {1, 2}, next[2] = {10, 20}, final_obs[2] = {11, 21};
  const std::uint8_t term[2] = {1, 0}, trunc[2] = {0, 1};
  buffer.add(2, obs, act, rew, next, final_obs, term, trunc);
  buffer.add(2, obs, act, rew, next, final_obs, term, trunc);
  EXPECT_EQ(buffer.size(), 3);
  float o[3], a[3], r[3], n[3], d[3];
  buffer.gather({0, 1, 2}, o, a, r, n, d);
  EXPECT_EQ(n[0], 21.0f);  // the 4th transition (env 1, truncated) wrapped around onto row 0
  EXPECT_EQ(d[0], 0.0f);
  EXPECT_EQ(n[1], 21.0f);  // truncated: the final observation, not the reset one
  EXPECT_EQ(d[1], 0.0f);   // and bootstrapped
  EXPECT_EQ(n[2], 10.0f);
  EXPECT_EQ(d[2], 1.0f);
}

}  // namespace
}  // namespace graybox::agents
