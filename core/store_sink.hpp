// StoreSink: a MetricSink that buffers a trial's metrics and events into the run store (they are
// committed with the store's next commit) and remembers the latest value of each metric, e.g.
// for a progress line. Events are also printed to stderr when `echo_events` is set.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include "core/store.hpp"
#include "core/trainable.hpp"

namespace graybox::core {

class StoreSink final : public MetricSink {
 public:
  explicit StoreSink(Store& store, std::int64_t trial = 0, bool echo_events = true)
      : store_(store), trial_(trial), echo_events_(echo_events) {}

  void metric(std::int64_t step, const std::string& name, double value) override {
    store_.add_metric(trial_, step, name, value);
    last_[name] = value;
  }
  void event(std::int64_t step, const std::string& kind, const std::string& detail) override {
    store_.add_event(trial_, step, kind, detail);
    if (echo_events_) std::fprintf(stderr, "\n[step %lld] %s: %s\n", static_cast<long long>(step), kind.c_str(), detail.c_str());
  }
  // The latest value reported for `name` (NaN if none yet).
  double last(const std::string& name) const {
    const auto it = last_.find(name);
    return it == last_.end() ? std::nan("") : it->second;
  }

 private:
  Store& store_;
  std::int64_t trial_;
  bool echo_events_;
  std::map<std::string, double> last_;
};

}  // namespace graybox::core
