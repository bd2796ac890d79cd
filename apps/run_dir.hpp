// The run directory a training command writes:
//   config.yaml        the resolved config (defaults filled in)
//   store.sqlite       metrics per step, hyperparameter changes, events
//   metrics.csv        the same metrics as a wide CSV (written at the end and on stop)
//   checkpoints/       step_<N>/ (complete state), `latest` names the newest complete one
//   summary.json       final figures for scripts
// Checkpoints are written to a temporary folder and renamed into place, and `latest` is
// replaced atomically, so a run killed at any moment leaves one that loads.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/commands.hpp"
#include "core/config.hpp"

namespace graybox::apps {

class RunDir {
 public:
  explicit RunDir(std::string path);
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // Writes a checkpoint for `step` with `write(dir)`, then points `latest` at it and removes
  // all but the newest `keep` checkpoints.
  std::string write_checkpoint(std::int64_t step, const std::function<void(const std::string&)>& write,
                               int keep);
  // The newest complete checkpoint folder, or "" if there is none.
  std::string latest_checkpoint() const;

  // summary.json as it is (an empty object if absent or unreadable), and its atomic rewrite.
  nlohmann::json read_summary() const;
  void write_summary(const nlohmann::json& summary) const;

 private:
  std::string path_;
};

// A fresh folder name for a run of `config_path`: runs/<stem>-<YYYYmmdd-HHMMSS>.
std::string default_run_path(const std::string& config_path);

// The keys every training command's config has: checkpoint.interval (its default and doc given
// in the command's units), checkpoint.keep, replay.file (torch_threads is a task key).
void add_run_schema(core::ConfigSchema& schema, long long checkpoint_interval, const std::string& interval_doc);

// The config of a training command (train, fit): with --resume, the run's own config.yaml;
// otherwise the given file; both with the --set overrides. Sets `out` (a default run path if
// none was given) and refuses to start a fresh run in a directory that already holds one.
core::Config load_run_config(const TrainOptions& options, const core::ConfigSchema& schema,
                             const std::string& command, std::string& out);

}  // namespace graybox::apps
