// BufferSink: a MetricSink that keeps a job's metrics and events in memory, so a trial training
// on a worker thread never touches the run store (which is not thread-safe). The runner hands
// the rows to the store on its own thread, before its commit, with write_to(). Metrics go in with
// set_metric: a trial or member that trains a step again (a re-run job after a kill, a PBT
// rollback or asynchronous exploit that went back to an earlier step) replaces the values it
// recorded there instead of adding a second row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/store.hpp"
#include "core/trainable.hpp"

namespace graybox::core {

class BufferSink final : public MetricSink {
 public:
  void metric(std::int64_t step, const std::string& name, double value) override {
    metrics_.push_back({0, step, name, value});
  }
  void event(std::int64_t step, const std::string& kind, const std::string& detail) override {
    events_.push_back({step, kind, detail});
  }
  std::size_t size() const { return metrics_.size() + events_.size(); }

  // Buffers every row into `store` under `trial` (committed with the store's next commit) and
  // empties the sink.
  void write_to(Store& store, std::int64_t trial) {
    for (const auto& m : metrics_) store.set_metric(trial, m.step, m.name, m.value);
    for (const auto& e : events_) store.add_event(trial, e.step, e.kind, e.detail);
    metrics_.clear();
    events_.clear();
  }

 private:
  struct Event {
    std::int64_t step;
    std::string kind, detail;
  };
  std::vector<MetricRow> metrics_;
  std::vector<Event> events_;
};

}  // namespace graybox::core
