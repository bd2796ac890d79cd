// VecEnv: seeding, auto-reset, episode reports, unstable counting, thread-count independence
// and state save/restore.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.hpp"
#include "envs/vec_env.hpp"
#include "tests/envs/env_test_util.hpp"

namespace graybox::envs {
namespace {

using testing::same_bits;

std::vector<double> random_actions(const EnvSpec& spec, int n, core::Rng& rng) {
  std::vector<double> a;
  for (int i = 0; i < n; ++i) {
    const auto one = testing::random_action(spec, rng);
    a.insert(a.end(), one.begin(), one.end());
  }
  return a;
}

struct Trace {
  std::vector<std::vector<double>> obs, final_obs, rewards;
  std::vector<std::vector<std::uint8_t>> terminated, truncated;
  std::vector<std::vector<EpisodeEnd>> episodes;
};

Trace run(const std::string& id, int num_envs, int threads, int steps) {
  VecEnv vec(id, EnvOptions{}, num_envs, 123, threads);
  Trace t;
  t.obs.push_back(vec.reset());
  core::Rng rng(77);
  for (int i = 0; i < steps; ++i) {
    const VecStepResult& r = vec.step(random_actions(vec.spec(), num_envs, rng));
    t.obs.push_back(r.obs);
    t.final_obs.push_back(r.final_obs);
    t.rewards.push_back(r.rewards);
    t.terminated.push_back(r.terminated);
    t.truncated.push_back(r.truncated);
    t.episodes.push_back(r.episodes);
  }
  return t;
}

TEST(VecEnv, ResultsDoNotDependOnThreadCount) {
  const Trace one = run("Hopper-v5", 6, 1, 250);
  for (int threads : {2, 0}) {
    const Trace many = run("Hopper-v5", 6, threads, 250);
    ASSERT_EQ(one.obs.size(), many.obs.size());
    int ended = 0;
    for (std::size_t i = 0; i < one.obs.size(); ++i) {
      ASSERT_TRUE(same_bits(one.obs[i], many.obs[i])) << "threads " << threads << " step " << i;
    }
    for (std::size_t i = 0; i < one.rewards.size(); ++i) {
      ASSERT_TRUE(same_bits(one.final_obs[i], many.final_obs[i]));
      ASSERT_TRUE(same_bits(one.rewards[i], many.rewards[i]));
      ASSERT_EQ(one.terminated[i], many.terminated[i]);
      ASSERT_EQ(one.truncated[i], many.truncated[i]);
      ASSERT_EQ(one.episodes[i].size(), many.episodes[i].size());
      for (std::size_t k = 0; k < one.episodes[i].size(); ++k) {
        const EpisodeEnd& a = one.episodes[i][k];
        const EpisodeEnd& b = many.episodes[i][k];
        EXPECT_EQ(a.env_index, b.env_index);
        EXPECT_TRUE(same_bits(a.episode_return, b.episode_return));
        EXPECT_EQ(a.episode_length, b.episode_length);
        EXPECT_EQ(a.terminated, b.terminated);
        ++ended;
      }
    }
    EXPECT_GT(ended, 0) << "random Hopper episodes should end within 250 steps";
  }
}

TEST(VecEnv, EnvsAreSeededFromDerivedSeeds) {
  VecEnv vec("HalfCheetah-v5", EnvOptions{}, 3, 99, 1);
  const std::vector<double> obs = vec.reset();
  for (int i = 0; i < 3; ++i) {
    auto env = make_env("HalfCheetah-v5");
    std::vector<double> one(17);
    env->reset(core::derive_seed(99, core::Stream::kEnv, static_cast<std::uint64_t>(i)), one.data());
    const std::vector<double> slice(obs.begin() + 17 * i, obs.begin() + 17 * (i + 1));
    EXPECT_TRUE(same_bits(one, slice)) << "env " << i;
  }
}

TEST(VecEnv, AutoResetKeepsFinalObsAndReportsEpisodesInOrder) {
  const int n = 5;
  VecEnv vec("Hopper-v5", EnvOptions{}, n, 5, 2);
  vec.reset();
  core::Rng rng(3);
  std::vector<double> running(n, 0.0);
  std::vector<std::int64_t> lengths(n, 0);
  int ended = 0;
  for (int step = 0; step < 300; ++step) {
    const VecStepResult& r = vec.step(random_actions(vec.spec(), n, rng));
    int last_index = -1;
    std::size_t next = 0;
    for (int i = 0; i < n; ++i) {
      running[static_cast<std::size_t>(i)] += r.rewards[static_cast<std::size_t>(i)];
      ++lengths[static_cast<std::size_t>(i)];
      if (r.terminated[static_cast<std::size_t>(i)] || r.truncated[static_cast<std::size_t>(i)]) {
        ASSERT_LT(next, r.episodes.size());
        const EpisodeEnd& e = r.episodes[next++];
        EXPECT_EQ(e.env_index, i);
        EXPECT_GT(e.env_index, last_index);
        last_index = e.env_index;
        EXPECT_NEAR(e.episode_return, running[static_cast<std::size_t>(i)], 1e-9);
        EXPECT_EQ(e.episode_length, lengths[static_cast<std::size_t>(i)]);
        // The final observation is the terminal one; obs is the new episode's first.
        const std::vector<double> fin(r.final_obs.begin() + 11 * i, r.final_obs.begin() + 11 * (i + 1));
        const std::vector<double> now(r.obs.begin() + 11 * i, r.obs.begin() + 11 * (i + 1));
        EXPECT_FALSE(same_bits(fin, now));
        EXPECT_NEAR(now[0], 1.25, 0.006);  // reset height
        EXPECT_EQ(vec.env(i).episode_length(), 0);
        running[static_cast<std::size_t>(i)] = 0.0;
        lengths[static_cast<std::size_t>(i)] = 0;
        ++ended;
      }
    }
    EXPECT_EQ(next, r.episodes.size());
    EXPECT_TRUE(same_bits(r.obs, vec.observations()));
  }
  EXPECT_GT(ended, 3);
  EXPECT_EQ(vec.unstable_episodes(), 0);
}

TEST(VecEnv, UnstableEpisodesAreCounted) {
  VecEnv vec("HalfCheetah-v5", EnvOptions{}, 3, 1, 2);
  vec.reset();
  std::vector<double> a(18, 0.0);
  a[6 + 2] = std::numeric_limits<double>::quiet_NaN();  // env 1
  const VecStepResult& r = vec.step(a);
  ASSERT_EQ(r.episodes.size(), 1u);
  EXPECT_EQ(r.episodes[0].env_index, 1);
  EXPECT_TRUE(r.episodes[0].unstable);
  EXPECT_TRUE(r.episodes[0].truncated);
  EXPECT_EQ(r.truncated[1], 1);
  EXPECT_EQ(r.rewards[1], 0.0);
  EXPECT_EQ(vec.unstable_episodes(), 1);
  a[6 + 2] = 0.0;
  vec.step(a);
  EXPECT_EQ(vec.unstable_episodes(), 1);
  for (double v : vec.observations()) EXPECT_TRUE(std::isfinite(v));
}

TEST(VecEnv, StateRestoreStepsInLockstep) {
  VecEnv a("Hopper-v5", EnvOptions{}, 4, 8, 2);
  a.reset();
  core::Rng rng(1);
  for (int i = 0; i < 40; ++i) a.step(random_actions(a.spec(), 4, rng));
  VecEnv b("Hopper-v5", EnvOptions{}, 4, 8, 1);
  b.set_state(a.state());
  EXPECT_TRUE(same_bits(a.observations(), b.observations()));
  for (int i = 0; i < 150; ++i) {
    const auto act = random_actions(a.spec(), 4, rng);
    const VecStepResult ra = a.step(act);
    const VecStepResult& rb = b.step(act);
    ASSERT_TRUE(same_bits(ra.obs, rb.obs)) << "step " << i;
    ASSERT_TRUE(same_bits(ra.rewards, rb.rewards));
    ASSERT_EQ(ra.episodes.size(), rb.episodes.size());
  }
}

TEST(VecEnv, BadInput) {
  EXPECT_THROW(VecEnv("Nope-v0", EnvOptions{}, 2, 1, 1), EnvError);
  EXPECT_THROW(VecEnv("Hopper-v5", EnvOptions{}, 0, 1, 1), EnvError);
  VecEnv vec("Hopper-v5", EnvOptions{}, 2, 1, 1);
  EXPECT_THROW(vec.step(std::vector<double>(5, 0.0)), EnvError);
  EXPECT_THROW(vec.env(2), EnvError);
}

}  // namespace
}  // namespace graybox::envs
