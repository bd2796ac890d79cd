// The run directory a training command writes:
//   config.yaml        the resolved config (defaults filled in)
//   store.sqlite       metrics per step, hyperparameter changes, events
//   metrics.csv        the same metrics as a wide CSV (written at the end and on stop)
//   checkpoints/       step_<N>/ (complete state), `latest` names the newest complete one
//   summary.json       final figures for scripts
//   lock               held (flock) by the process that runs in the directory; holds its pid
// Checkpoints are written to a temporary folder and renamed into place, and `latest` is
// replaced atomically, so a run killed at any moment leaves one that loads. A write that fails
// (a full disk) is a UserError naming the path and the cause and leaves the last complete
// checkpoint in place.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "apps/commands.hpp"
#include "core/config.hpp"
#include "core/files.hpp"
#include "core/hyperparameters.hpp"
#include "core/store.hpp"
#include "core/trainable.hpp"

namespace graybox::apps {

class RunDir {
 public:
  // Opens the directory (creating it) and takes its lock for the object's life. Throws
  // UserError naming the path when it cannot be created (a file in the way, a read-only file
  // system) or another process runs in it ("in use by pid N").
  explicit RunDir(std::string path);
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // Writes a checkpoint for `step` with `write(dir)`, then points `latest` at it and removes
  // all but the newest `keep` checkpoints.
  std::string write_checkpoint(std::int64_t step, const std::function<void(const std::string&)>& write,
                               int keep);
  // The checkpoint to continue from: the one `latest` names or, when `latest` is missing,
  // dangling or garbage, the newest complete step_* folder (and `note` says so); "" if none.
  std::string latest_checkpoint(std::string* note = nullptr) const;
  // Throws UserError unless the directory is free for a new run (no config, store or checkpoint).
  void require_fresh(const std::string& command) const;

  // summary.json as it is (an empty object if absent or unreadable), and its atomic rewrite.
  nlohmann::json read_summary() const;
  void write_summary(const nlohmann::json& summary) const;

 private:
  std::string path_;
  std::unique_ptr<core::DirLock> lock_;
};

// Creates a new, empty folder for a run of `config_path` and returns its path:
// runs/<stem>-<YYYYmmdd-HHMMSS>, with -2, -3, ... appended when another run took that name.
std::string default_run_path(const std::string& config_path);

// The keys every training command's config has: checkpoint.interval (its default and doc given
// in the command's units), checkpoint.keep, replay.file, torch_threads.
void add_run_schema(core::ConfigSchema& schema, long long checkpoint_interval, const std::string& interval_doc);

// The config of a training command (train, fit): with --resume, the run's own config.yaml;
// otherwise the given file; both with the --set overrides. Refuses CONFIG with --resume, and
// --resume of a directory that holds no run.
core::Config load_run_config(const TrainOptions& options, const core::ConfigSchema& schema,
                             const std::string& command);
// The locked run directory of a training command: --out, or a new folder under runs/. A new
// run refuses a directory that already holds one.
std::unique_ptr<RunDir> open_run_dir(const TrainOptions& options, const std::string& command);

// What a resume may change with --set: the keys that plan the rest of the run (`plan_keys`:
// whole keys, or prefixes ending in '.') and the task's hyperparameters (`hyperparameter_name`
// gives a key's name among them, or ""). Every other key that --set changes (a network size,
// the env, the seed, the data) is refused with a UserError naming it, before anything is
// written. Returns the changed hyperparameters: (key, name).
using HyperparameterName = std::function<std::string(const std::string&)>;
std::vector<std::pair<std::string, std::string>> check_resume_overrides(
    const TrainOptions& options, const core::ConfigSchema& schema, const std::vector<std::string>& plan_keys,
    const HyperparameterName& hyperparameter_name);
// Starts a training command's run once its task is built. With --resume: loads the checkpoint
// to continue from into `task` (a directory without one is refused), gives it the resume's --set
// hyperparameters (`changed`, their values from `configured`), and refuses a store that does not
// reach the checkpoint (truncated or replaced). Only then writes config.yaml and the store's
// meta, and records the resume and each change. Returns the checkpoint ("" for a new run).
std::string start_run(const TrainOptions& options, const RunDir& run, const core::Config& config,
                      const std::vector<std::pair<std::string, std::string>>& changed,
                      const core::Hyperparameters& configured, core::Trainable& task, core::Store& store);

}  // namespace graybox::apps
