#include "core/progress.hpp"

#include <unistd.h>

#include <cmath>

namespace graybox::core {

ProgressLine::ProgressLine(std::int64_t total_steps, bool enabled, std::string metric, int decimals, std::FILE* out)
    : total_(total_steps),
      enabled_(enabled),
      metric_(std::move(metric)),
      decimals_(decimals),
      tty_(::isatty(::fileno(out)) != 0),
      out_(out) {}

void ProgressLine::start(std::int64_t start_step) {
  start_step_ = start_step;
  start_ = std::chrono::steady_clock::now();
  last_print_ = start_;
}

std::string ProgressLine::format(std::int64_t step, double recent_return) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double sps = elapsed > 0 ? static_cast<double>(step - start_step_) / elapsed : 0.0;
  const double eta = sps > 0 ? static_cast<double>(total_ - step) / sps : 0.0;
  char line[200];
  const double percent = total_ > 0 ? 100.0 * static_cast<double>(step) / static_cast<double>(total_) : 100.0;
  char ret[32];
  if (std::isfinite(recent_return)) {
    std::snprintf(ret, sizeof(ret), "%.*f", decimals_, recent_return);
  } else {
    std::snprintf(ret, sizeof(ret), "-");
  }
  std::snprintf(line, sizeof(line), "step %lld/%lld (%3.0f%%)  %6.0f SPS  %s %s  ETA %02d:%02d",
                static_cast<long long>(step), static_cast<long long>(total_), percent, sps, metric_.c_str(), ret,
                static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
  return line;
}

void ProgressLine::update(std::int64_t step, double recent_return, bool force) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (!force && since < (tty_ ? 0.5 : 10.0)) return;
  last_print_ = now;
  if (tty_) {
    std::fprintf(out_, "\r\033[K%s", format(step, recent_return).c_str());
  } else {
    std::fprintf(out_, "%s\n", format(step, recent_return).c_str());
  }
  std::fflush(out_);
}

void ProgressLine::finish(std::int64_t step, double recent_return) {
  if (!enabled_) return;
  if (tty_) {
    std::fprintf(out_, "\r\033[K%s\n", format(step, recent_return).c_str());
  } else {
    std::fprintf(out_, "%s\n", format(step, recent_return).c_str());
  }
  std::fflush(out_);
}

}  // namespace graybox::core
