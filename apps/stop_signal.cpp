#include "apps/stop_signal.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

namespace graybox::apps {
namespace {

std::atomic<int> g_stop{0};
// The messages, built before any signal: a handler may only write and exit.
char g_first[1024] = "";
char g_second[1024] = "";

void say(const char* text) {
  const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

void on_signal(int signal) {
  if (g_stop.exchange(signal) != 0) {
    say(g_second);
    ::_exit(130);
  }
  say(g_first);
}

}  // namespace

void install_stop_handlers(const std::string& resume) {
  const std::string then = resume.empty() ? std::string() : "; continue with: " + resume;
  std::snprintf(g_first, sizeof(g_first), "\nstopping at the next checkpoint%s (again to stop at once)\n", then.c_str());
  std::snprintf(g_second, sizeof(g_second), "\nstopped at once%s\n", then.c_str());
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

int stop_signal() { return g_stop.load(); }

}  // namespace graybox::apps
