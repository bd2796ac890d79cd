// Offscreen rendering: a few frames of a task into memory (skipped where no EGL display can be
// created), and the video writer's error path.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "envs/env.hpp"
#include "envs/render.hpp"
#include "tests/envs/env_test_util.hpp"

namespace graybox::envs {
namespace {

using testing::as_mujoco;

std::unique_ptr<Renderer> try_renderer(const mjModel* m, int w, int h, std::string* why) {
  try {
    return std::make_unique<Renderer>(m, w, h);
  } catch (const EnvError& e) {
    *why = e.what();
    return nullptr;
  }
}

TEST(Render, FramesOfATaskAreNotBlankAndFollowTheState) {
  auto env = make_env("Hopper-v5");
  std::string why;
  auto renderer = try_renderer(as_mujoco(*env).model(), 160, 120, &why);
  if (!renderer) GTEST_SKIP() << "no offscreen rendering here: " << why;
  std::vector<double> obs(11);
  env->reset(1, obs.data());
  const std::vector<double> before_state = env->state().qpos;
  std::vector<unsigned char> first, later;
  renderer->render(as_mujoco(*env).data(), first);
  ASSERT_EQ(first.size(), 160u * 120u * 3u);
  long lit = 0;
  for (unsigned char c : first) lit += c > 16 ? 1 : 0;
  EXPECT_GT(lit, static_cast<long>(first.size() / 4)) << "the frame is (almost) black";
  EXPECT_EQ(env->state().qpos, before_state) << "rendering must not touch the env";

  const std::vector<double> a = {1.0, -1.0, 1.0};
  for (int i = 0; i < 30; ++i) env->step(a.data(), obs.data());
  renderer->render(as_mujoco(*env).data(), later);
  long differing = 0;
  for (std::size_t i = 0; i < first.size(); ++i) differing += first[i] != later[i] ? 1 : 0;
  EXPECT_GT(differing, 100) << "the picture should follow the state";
}

TEST(Render, OtherTasksRender) {
  // A few models of each kind (a context costs about half a second in software here).
  for (const std::string id : {"InvertedPendulum-v5", "Pusher-v5", "Ant-v5", "HumanoidStandup-v5"}) {
    auto env = make_env(id);
    std::string why;
    auto renderer = try_renderer(as_mujoco(*env).model(), 64, 48, &why);
    if (!renderer) GTEST_SKIP() << "no offscreen rendering here: " << why;
    std::vector<double> obs(static_cast<std::size_t>(env->spec().obs_dim));
    env->reset(2, obs.data());
    std::vector<unsigned char> rgb;
    renderer->render(as_mujoco(*env).data(), rgb);
    long lit = 0;
    for (unsigned char c : rgb) lit += c > 16 ? 1 : 0;
    EXPECT_GT(lit, static_cast<long>(rgb.size() / 100)) << id << ": the frame is black";
  }
}

TEST(Render, VideoWriterRejectsWrongFrames) {
  const std::string path = ::testing::TempDir() + "graybox_render_test.mp4";
  VideoWriter writer(path, 32, 32, 25.0);
  EXPECT_THROW(writer.write(std::vector<unsigned char>(10)), EnvError);
  EXPECT_NO_THROW(writer.write(std::vector<unsigned char>(32 * 32 * 3, 128)));
  EXPECT_EQ(writer.frames(), 1);
  try {
    writer.close();  // ffmpeg absent: a clear error, never a crash
  } catch (const EnvError& e) {
    EXPECT_NE(std::string(e.what()).find("ffmpeg"), std::string::npos);
  }
  std::remove(path.c_str());
}

TEST(Render, AnUnwritableVideoPathIsAnErrorNotACrash) {
  bool failed = false;
  try {
    VideoWriter writer("/nonexistent-dir/graybox/out.mp4", 32, 32, 25.0);
    const std::vector<unsigned char> frame(32 * 32 * 3, 200);
    for (int i = 0; i < 50; ++i) writer.write(frame);
    writer.close();
  } catch (const EnvError& e) {
    failed = true;
    EXPECT_NE(std::string(e.what()).find("out.mp4"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(failed);
}

}  // namespace
}  // namespace graybox::envs
