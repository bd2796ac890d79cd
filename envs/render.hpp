// Offscreen rendering of MuJoCo tasks for people (videos of evaluation episodes).
//
// Renderer draws a model's state into an RGB buffer through an OpenGL context from EGL on
// Mesa's surfaceless platform (software rendering, no display or GPU needed). It keeps its own
// mjData: render() copies qpos/qvel/act/time from the given data and runs mj_forward, so the
// env being watched is never modified. A Renderer and its calls must stay on one thread.
// VideoWriter pipes frames into ffmpeg, which writes an H.264 MP4 (yuv420p, playable in
// browsers).
//
// When graybox was built without EGL (envs/CMakeLists.txt: find_library(EGL)),
// render_available() is false and constructing a Renderer throws EnvError saying so.
#pragma once

#include <mujoco/mujoco.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "envs/env.hpp"

namespace graybox::envs {

// True when this build includes the EGL renderer.
bool render_available();

class Renderer {
 public:
  // Throws EnvError when rendering is unavailable (not built, no EGL display or context).
  Renderer(const mjModel* model, int width = 640, int height = 480);
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  int width() const { return width_; }
  int height() const { return height_; }
  // Renders the state held in `data` (a mjData of the same model) from a camera that tracks
  // body 1. rgb receives width * height * 3 bytes, rows top-down.
  void render(const mjData* data, std::vector<unsigned char>& rgb);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int width_ = 0, height_ = 0;
};

class VideoWriter {
 public:
  // Starts `ffmpeg` writing `path`. Throws EnvError if ffmpeg cannot be started.
  VideoWriter(const std::string& path, int width, int height, double fps);
  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  void write(const std::vector<unsigned char>& rgb);
  // Finishes the file. Throws EnvError if ffmpeg failed.
  void close();
  std::int64_t frames() const { return frames_; }

 private:
  std::string path_;
  std::FILE* pipe_ = nullptr;
  std::size_t frame_bytes_ = 0;
  std::int64_t frames_ = 0;
};

}  // namespace graybox::envs
