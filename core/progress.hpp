// A live progress line for long runs: steps, steps per second, the recent return (or another
// metric) and the
// time left. On a terminal it rewrites one line; otherwise it prints a line every few seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace graybox::core {

class ProgressLine {
 public:
  // `metric` names the figure shown (e.g. "return", "val accuracy"), with `decimals` digits.
  ProgressLine(std::int64_t total_steps, bool enabled, std::string metric = "return", int decimals = 1,
               std::FILE* out = stderr);
  // start_step: where a resumed run begins, so SPS and ETA count only this session's work.
  void start(std::int64_t start_step);
  void update(std::int64_t step, double recent_return, bool force = false);
  void finish(std::int64_t step, double recent_return);

 private:
  std::string format(std::int64_t step, double recent_return) const;
  std::int64_t total_;
  bool enabled_;
  std::string metric_;
  int decimals_;
  bool tty_;
  std::FILE* out_;
  std::int64_t start_step_ = 0;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace graybox::core
