#include "apps/stop_signal.hpp"

#include <atomic>
#include <csignal>

namespace graybox::apps {
namespace {

std::atomic<int> g_stop{0};

void on_signal(int signal) { g_stop = signal; }

}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

int stop_signal() { return g_stop.load(); }

}  // namespace graybox::apps
