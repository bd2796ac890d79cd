#include "envs/render.hpp"

#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <ctime>
#include <sstream>

#ifdef GRAYBOX_HAVE_EGL
#include <EGL/egl.h>
#include <EGL/eglext.h>
#endif

namespace graybox::envs {

#ifdef GRAYBOX_HAVE_EGL

bool render_available() { return true; }

namespace {

std::string egl_error(const char* what) {
  std::ostringstream msg;
  msg << "offscreen rendering: " << what << " failed (EGL error 0x" << std::hex << eglGetError() << ")";
  return msg.str();
}

}  // namespace

struct Renderer::Impl {
  EGLDisplay display = EGL_NO_DISPLAY;
  EGLContext context = EGL_NO_CONTEXT;
  mjModel* model = nullptr;  // a copy, with the offscreen size set
  mjData* data = nullptr;
  mjvScene scene;
  mjvCamera camera;
  mjvOption option;
  mjrContext gl;
  bool scene_made = false, gl_made = false;
  std::vector<unsigned char> flipped;

  ~Impl() {
    if (gl_made) mjr_freeContext(&gl);
    if (scene_made) mjv_freeScene(&scene);
    if (data != nullptr) mj_deleteData(data);
    if (model != nullptr) mj_deleteModel(model);
    if (display != EGL_NO_DISPLAY) {
      eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
      if (context != EGL_NO_CONTEXT) eglDestroyContext(display, context);
      eglTerminate(display);
    }
  }
};

Renderer::Renderer(const mjModel* model, int width, int height)
    : impl_(std::make_unique<Impl>()), width_(width), height_(height) {
  if (width < 16 || height < 16 || width > 4096 || height > 4096) {
    throw EnvError("offscreen rendering: size " + std::to_string(width) + "x" + std::to_string(height) +
                   " out of range");
  }
  Impl& s = *impl_;
  // The default display needs X; Mesa's surfaceless platform needs nothing.
  auto get_platform_display =
      reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(eglGetProcAddress("eglGetPlatformDisplayEXT"));
  if (get_platform_display == nullptr) {
    throw EnvError("offscreen rendering: EGL lacks eglGetPlatformDisplayEXT (install libegl-mesa0)");
  }
  s.display = get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
  if (s.display == EGL_NO_DISPLAY) {
    throw EnvError(egl_error("eglGetPlatformDisplayEXT(SURFACELESS_MESA)") +
                   "; install libegl-mesa0 and libgl1-mesa-dri");
  }
  EGLint major = 0, minor = 0;
  if (eglInitialize(s.display, &major, &minor) != EGL_TRUE) {
    s.display = EGL_NO_DISPLAY;
    throw EnvError(egl_error("eglInitialize") + "; install libegl-mesa0 and libgl1-mesa-dri");
  }
  // No window: the default surface type (window) matches no surfaceless config.
  const EGLint config_attribs[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RED_SIZE,     8,
                                   EGL_GREEN_SIZE,   8,               EGL_BLUE_SIZE,    8,
                                   EGL_ALPHA_SIZE,   8,               EGL_DEPTH_SIZE,   24,
                                   EGL_STENCIL_SIZE, 8,               EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
                                   EGL_NONE};
  EGLConfig config = nullptr;
  EGLint count = 0;
  if (eglChooseConfig(s.display, config_attribs, &config, 1, &count) != EGL_TRUE || count < 1) {
    throw EnvError(egl_error("eglChooseConfig"));
  }
  if (eglBindAPI(EGL_OPENGL_API) != EGL_TRUE) throw EnvError(egl_error("eglBindAPI(OpenGL)"));
  s.context = eglCreateContext(s.display, config, EGL_NO_CONTEXT, nullptr);
  if (s.context == EGL_NO_CONTEXT) throw EnvError(egl_error("eglCreateContext"));
  if (eglMakeCurrent(s.display, EGL_NO_SURFACE, EGL_NO_SURFACE, s.context) != EGL_TRUE) {
    throw EnvError(egl_error("eglMakeCurrent"));
  }

  s.model = mj_copyModel(nullptr, model);
  if (s.model == nullptr) throw EnvError("offscreen rendering: mj_copyModel failed");
  s.model->vis.global.offwidth = std::max(s.model->vis.global.offwidth, width);
  s.model->vis.global.offheight = std::max(s.model->vis.global.offheight, height);
  s.data = mj_makeData(s.model);
  if (s.data == nullptr) throw EnvError("offscreen rendering: mj_makeData failed");

  mjv_defaultScene(&s.scene);
  mjv_makeScene(s.model, &s.scene, 2000);
  s.scene_made = true;
  mjv_defaultOption(&s.option);
  mjv_defaultCamera(&s.camera);
  mjr_defaultContext(&s.gl);
  mjr_makeContext(s.model, &s.gl, mjFONTSCALE_100);
  s.gl_made = true;
  mjr_setBuffer(mjFB_OFFSCREEN, &s.gl);
  if (s.gl.currentBuffer != mjFB_OFFSCREEN) throw EnvError("offscreen rendering: no offscreen buffer");

  // A camera that follows body 1 (the torso of the locomotion tasks; the first link of the
  // fixed-base ones) from the side, a little above, at a distance that fits the geoms of the
  // moving bodies (the model's extent includes the floor, too large for this). Flat models
  // (Reacher, Swimmer) are seen from higher up.
  mj_forward(s.model, s.data);
  const int tracked = s.model->nbody > 1 ? 1 : 0;
  double spread = 0.1, rise = 0.0;
  for (int g = 0; g < s.model->ngeom; ++g) {
    if (s.model->geom_bodyid[g] == 0) continue;  // floor, walls, rails
    double d2 = 0.0;
    for (int k = 0; k < 3; ++k) {
      const double dk = s.data->geom_xpos[3 * g + k] - s.data->xpos[3 * tracked + k];
      d2 += dk * dk;
    }
    spread = std::max(spread, std::sqrt(d2) + s.model->geom_rbound[g]);
    rise = std::max(rise, std::fabs(s.data->geom_xpos[3 * g + 2] - s.data->xpos[3 * tracked + 2]) +
                                  s.model->geom_rbound[g]);
  }
  s.camera.type = mjCAMERA_TRACKING;
  s.camera.trackbodyid = tracked;
  s.camera.distance = std::clamp(2.8 * spread + 0.5, 1.0, 10.0);
  s.camera.azimuth = 90.0;
  s.camera.elevation = rise < 0.3 * spread ? -60.0 : -20.0;
}

Renderer::~Renderer() = default;

void Renderer::render(const mjData* data, std::vector<unsigned char>& rgb) {
  Impl& s = *impl_;
  const mjModel* m = s.model;
  std::copy(data->qpos, data->qpos + m->nq, s.data->qpos);
  std::copy(data->qvel, data->qvel + m->nv, s.data->qvel);
  std::copy(data->act, data->act + m->na, s.data->act);
  s.data->time = data->time;
  mj_forward(m, s.data);  // without it the first frame is empty

  if (eglGetCurrentContext() != s.context) {
    eglMakeCurrent(s.display, EGL_NO_SURFACE, EGL_NO_SURFACE, s.context);
  }
  const mjrRect viewport = {0, 0, width_, height_};
  mjv_updateScene(m, s.data, &s.option, nullptr, &s.camera, mjCAT_ALL, &s.scene);
  mjr_render(viewport, &s.scene, &s.gl);
  const std::size_t row = static_cast<std::size_t>(width_) * 3;
  s.flipped.resize(row * static_cast<std::size_t>(height_));
  mjr_readPixels(s.flipped.data(), nullptr, viewport, &s.gl);
  // OpenGL returns rows bottom-up.
  rgb.resize(s.flipped.size());
  for (int y = 0; y < height_; ++y) {
    std::memcpy(rgb.data() + row * static_cast<std::size_t>(y),
                s.flipped.data() + row * static_cast<std::size_t>(height_ - 1 - y), row);
  }
}

#else  // no EGL at build time

bool render_available() { return false; }

struct Renderer::Impl {};

Renderer::Renderer(const mjModel*, int width, int height) : width_(width), height_(height) {
  throw EnvError(
      "offscreen rendering is not available: graybox was built without EGL (install libegl-dev, "
      "libegl-mesa0 and libgl1-mesa-dri, then rebuild)");
}

Renderer::~Renderer() = default;

void Renderer::render(const mjData*, std::vector<unsigned char>&) {}

#endif

namespace {

// Runs fn with SIGPIPE blocked on this thread, then discards a SIGPIPE it raised: a pipe to an
// ffmpeg that has exited gives an error (EPIPE) instead of ending the process.
template <typename Fn>
auto without_sigpipe(const Fn& fn) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  const auto result = fn();
  sigset_t pending;
  sigpending(&pending);
  if (sigismember(&pending, SIGPIPE) == 1) {
    const timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) == -1 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  return result;
}

// Quotes a string for /bin/sh.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

VideoWriter::VideoWriter(const std::string& path, int width, int height, double fps)
    : path_(path), frame_bytes_(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3) {
  if (!(fps > 0.0) || width <= 0 || height <= 0) throw EnvError("video '" + path + "': bad size or rate");
  std::ostringstream cmd;
  cmd.precision(10);
  cmd << "ffmpeg -y -loglevel error -f rawvideo -pix_fmt rgb24 -s " << width << "x" << height << " -r "
      << fps << " -i - -pix_fmt yuv420p " << shell_quote(path);
  pipe_ = popen(cmd.str().c_str(), "w");
  if (pipe_ == nullptr) throw EnvError("video '" + path + "': cannot start ffmpeg (install ffmpeg)");
  std::setvbuf(pipe_, nullptr, _IONBF, 0);  // every write happens inside write()
}

VideoWriter::~VideoWriter() {
  if (pipe_ != nullptr) without_sigpipe([this] { return pclose(pipe_); });
}

void VideoWriter::write(const std::vector<unsigned char>& rgb) {
  if (pipe_ == nullptr) throw EnvError("video '" + path_ + "': already closed");
  if (rgb.size() != frame_bytes_) throw EnvError("video '" + path_ + "': frame of the wrong size");
  const std::size_t written = without_sigpipe([&] { return std::fwrite(rgb.data(), 1, rgb.size(), pipe_); });
  if (written != rgb.size()) {
    throw EnvError("video '" + path_ + "': ffmpeg stopped reading (is ffmpeg installed, is the path writable?)");
  }
  ++frames_;
}

void VideoWriter::close() {
  if (pipe_ == nullptr) return;
  std::FILE* pipe = pipe_;
  pipe_ = nullptr;
  const int status = without_sigpipe([pipe] { return pclose(pipe); });
  if (status != 0) {
    throw EnvError("video '" + path_ + "': ffmpeg failed (exit status " + std::to_string(status) +
                   "; is ffmpeg installed?)");
  }
}

}  // namespace graybox::envs
