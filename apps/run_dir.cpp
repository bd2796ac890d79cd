#include "apps/run_dir.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <c10/util/Exception.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <vector>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/version.hpp"

namespace fs = std::filesystem;

namespace graybox::apps {
namespace {

// The first line of an exception's message (LibTorch appends a stack trace), and the system's
// cause when the failure left one in errno.
std::string cause_of(const std::exception& e, int error) {
  std::string message = e.what();
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&e)) message = torch_error->what_without_backtrace();
  message = message.substr(0, message.find('\n'));
  if (error == ENOSPC || error == EDQUOT || error == EFBIG || error == EROFS || error == EACCES || error == EIO) {
    message += std::string(" (") + std::strerror(error) + ")";
  }
  return message;
}

bool is_checkpoint_name(const std::string& name) {
  return name.rfind("step_", 0) == 0 && name.size() > 5 &&
         std::all_of(name.begin() + 5, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

RunDir::RunDir(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  if (fs::exists(path_, ec) && !fs::is_directory(path_, ec)) {
    throw core::UserError(path_ + ": exists and is not a directory (give --out a folder for the run)");
  }
  fs::create_directories(path_ + "/checkpoints", ec);
  if (ec) throw core::UserError(path_ + ": cannot create the run directory: " + ec.message());
  lock_ = std::make_unique<core::DirLock>(path_);
}

std::string RunDir::write_checkpoint(std::int64_t step,
                                     const std::function<void(const std::string&)>& write,
                                     int keep) {
  char name[64];
  std::snprintf(name, sizeof(name), "step_%012lld", static_cast<long long>(step));
  const std::string root = path_ + "/checkpoints";
  const std::string final_dir = root + "/" + name;
  const std::string tmp_dir = root + "/.tmp_" + name;
  try {
    fs::remove_all(tmp_dir);
    fs::create_directories(tmp_dir);
    write(tmp_dir);
    for (const auto& entry : fs::directory_iterator(tmp_dir)) core::sync_path(entry.path().string());
    fs::remove_all(final_dir);
    fs::rename(tmp_dir, final_dir);
  } catch (const std::exception& e) {
    const int error = errno;
    std::error_code ignored;
    fs::remove_all(tmp_dir, ignored);  // the last complete checkpoint stays what `latest` names
    if (dynamic_cast<const core::UserError*>(&e)) throw;
    throw core::UserError(final_dir + ": cannot write the checkpoint: " + cause_of(e, error));
  }
  core::sync_path(root);
  core::write_file_atomic(root + "/latest", std::string(name) + "\n");

  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string n = entry.path().filename().string();
    if (entry.is_directory() && is_checkpoint_name(n)) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  for (std::size_t i = 0; i + static_cast<std::size_t>(std::max(1, keep)) < names.size(); ++i) {
    fs::remove_all(root + "/" + names[i]);
  }
  return final_dir;
}

std::string RunDir::latest_checkpoint(std::string* note) const {
  const std::string root = path_ + "/checkpoints";
  std::error_code ec;
  std::string problem;
  if (!fs::exists(root + "/latest", ec)) {
    problem = "checkpoints/latest is missing";
  } else {
    std::string name;
    try {
      name = core::read_file(root + "/latest");
    } catch (const core::UserError&) {
      name.clear();
    }
    name.erase(std::remove_if(name.begin(), name.end(), [](char c) { return c == '\n' || c == '\r'; }), name.end());
    if (is_checkpoint_name(name) && fs::is_directory(root + "/" + name, ec)) return root + "/" + name;
    problem = is_checkpoint_name(name) ? "checkpoints/latest names " + name + ", which does not exist"
                                       : "checkpoints/latest does not name a checkpoint";
  }
  // Folders named step_* are complete: they are renamed into place after they are written.
  std::string newest;
  if (fs::is_directory(root, ec)) {
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      const std::string n = entry.path().filename().string();
      if (entry.is_directory() && is_checkpoint_name(n) && n > newest) newest = n;
    }
  }
  if (newest.empty()) return "";
  if (note) *note = problem + "; using the newest complete checkpoint, " + newest;
  return root + "/" + newest;
}

void RunDir::require_fresh(const std::string& command) const {
  std::error_code ec;
  bool holds = fs::exists(file("config.yaml"), ec) || fs::exists(file("store.sqlite"), ec);
  for (const auto& entry : fs::directory_iterator(path_ + "/checkpoints", ec)) {
    holds = holds || is_checkpoint_name(entry.path().filename().string()) || entry.path().filename() == "latest";
  }
  if (holds) {
    throw core::UserError(path_ + ": this run directory already holds a run; continue it with graybox " + command +
                          " --resume --out " + path_ + ", or choose another --out");
  }
}

nlohmann::json RunDir::read_summary() const {
  const std::string path = file("summary.json");
  std::error_code ec;
  if (!fs::exists(path, ec)) return nlohmann::json::object();
  try {
    nlohmann::json summary = nlohmann::json::parse(core::read_file(path));
    return summary.is_object() ? summary : nlohmann::json::object();
  } catch (const std::exception&) {
    return nlohmann::json::object();
  }
}

void RunDir::write_summary(const nlohmann::json& summary) const {
  core::write_file_atomic(file("summary.json"), summary.dump(2) + "\n");
}

void add_run_schema(core::ConfigSchema& schema, long long checkpoint_interval, const std::string& interval_doc) {
  schema.add_int("checkpoint.interval", checkpoint_interval, interval_doc, 0, 9.0e15);
  schema.add_int("checkpoint.keep", 2, "how many recent checkpoints to keep", 1, 1000);
  schema.add_string("replay.file", "",
                    "a hyperparameter schedules file (e.g. a PBT run's schedules/best.yaml): before every update "
                    "the hyperparameters take its values at the current step");
}

core::Config load_run_config(const TrainOptions& options, const core::ConfigSchema& schema,
                             const std::string& command) {
  if (!options.resume) {
    if (options.config_path.empty()) {
      throw core::UserError(command + ": a CONFIG file is required (or --resume --out RUN_DIR to continue a run)");
    }
    return core::Config::load(options.config_path, schema, options.overrides);
  }
  const std::string& out = options.out;
  if (out.empty()) throw core::UserError("--resume needs --out RUN_DIR (the run to continue)");
  if (!options.config_path.empty()) {
    throw core::UserError("--resume continues " + out + " with its own config.yaml, so CONFIG (" + options.config_path +
                          ") would be ignored: drop it, or change keys with --set");
  }
  std::error_code ec;
  if (!fs::is_regular_file(out + "/config.yaml", ec)) {
    throw core::UserError(out + ": not a " + command + " run directory (no config.yaml); nothing to resume");
  }
  return core::Config::load(out + "/config.yaml", schema, options.overrides);
}

std::unique_ptr<RunDir> open_run_dir(const TrainOptions& options, const std::string& command) {
  auto run = std::make_unique<RunDir>(options.out.empty() ? default_run_path(options.config_path) : options.out);
  if (!options.resume) run->require_fresh(command);
  return run;
}

std::vector<std::pair<std::string, std::string>> check_resume_overrides(
    const TrainOptions& options, const core::ConfigSchema& schema, const std::vector<std::string>& plan_keys,
    const HyperparameterName& hyperparameter_name) {
  std::vector<std::pair<std::string, std::string>> changed;
  if (!options.resume || options.overrides.empty()) return changed;
  const core::Config saved = core::Config::load(options.out + "/config.yaml", schema);
  const core::Config wanted = core::Config::load(options.out + "/config.yaml", schema, options.overrides);
  for (const auto& assignment : options.overrides) {
    const std::string key = assignment.substr(0, assignment.find('='));
    if (saved.text(key) == wanted.text(key)) continue;
    const bool plans = std::any_of(plan_keys.begin(), plan_keys.end(), [&](const std::string& k) {
      return k == key || (k.back() == '.' && key.compare(0, k.size(), k) == 0);
    });
    if (plans) continue;
    const std::string name = hyperparameter_name(key);
    if (!name.empty()) {
      if (std::none_of(changed.begin(), changed.end(), [&](const auto& c) { return c.first == key; })) {
        changed.emplace_back(key, name);
      }
      continue;
    }
    std::string allowed;
    for (const auto& k : plan_keys) allowed += (allowed.empty() ? "" : ", ") + (k.back() == '.' ? k + "*" : k);
    throw core::UserError("--set " + key + ": a resumed run cannot change it (the checkpoint was trained with " +
                          saved.text(key) + "); --resume may change " + allowed +
                          " and the hyperparameters a controller may change; start a new run for another " + key);
  }
  return changed;
}

namespace {

// A resumed run's store holds its metrics up to the checkpoint (they are committed first).
void require_store_reaches(const core::Store& store, std::int64_t step) {
  const std::int64_t last = store.last_step(0);
  if (step > 0 && last < step) {
    throw core::UserError(store.location() + ": holds metrics up to step " + std::to_string(last) +
                          ", but the checkpoint is at step " + std::to_string(step) +
                          " (truncated or replaced?); restore it, or start a new run with another --out");
  }
}

// The resume's --set hyperparameters replace the checkpoint's values in `current`; returns
// each change as "KEY: OLD -> NEW".
std::vector<std::string> apply_resume_overrides(const std::vector<std::pair<std::string, std::string>>& changed,
                                                const core::Hyperparameters& configured,
                                                core::Hyperparameters& current) {
  std::vector<std::string> changes;
  for (const auto& [key, name] : changed) {
    char line[256];
    std::snprintf(line, sizeof(line), "%s: %.10g -> %.10g", key.c_str(), current.get(name), configured.get(name));
    current.set(name, configured.get(name));
    changes.emplace_back(line);
    std::fprintf(stderr, "resume: %s (--set)\n", line);
  }
  return changes;
}

}  // namespace

std::string start_run(const TrainOptions& options, const RunDir& run, const core::Config& config,
                      const std::vector<std::pair<std::string, std::string>>& changed,
                      const core::Hyperparameters& configured, core::Trainable& task, core::Store& store) {
  std::string checkpoint;
  std::vector<std::string> changes;
  if (options.resume) {
    std::string note;
    checkpoint = run.latest_checkpoint(&note);
    if (checkpoint.empty()) {
      throw core::UserError(run.path() + ": no complete checkpoint to resume from; start a new run with another --out");
    }
    task.load(checkpoint);
    if (!note.empty()) std::fprintf(stderr, "note: %s\n", note.c_str());
    core::Hyperparameters hp = task.hyperparameters();
    changes = apply_resume_overrides(changed, configured, hp);
    task.set_hyperparameters(hp);
    require_store_reaches(store, task.steps_done());
  }
  core::write_file_atomic(run.file("config.yaml"), config.to_yaml());
  store.set_meta("graybox_version", GRAYBOX_VERSION);
  store.set_meta("config", config.to_yaml());
  if (!checkpoint.empty()) {
    store.truncate_after(0, task.steps_done());
    store.add_event(0, task.steps_done(), "resume", checkpoint);
    for (const auto& change : changes) store.add_event(0, task.steps_done(), "override", change);
    if (!options.quiet) {
      std::fprintf(stderr, "resuming %s from %s (step %lld)\n", run.path().c_str(), checkpoint.c_str(),
                   static_cast<long long>(task.steps_done()));
    }
  }
  return checkpoint;
}

std::string default_run_path(const std::string& config_path) {
  const std::string stem = fs::path(config_path).stem().string();
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  std::error_code ec;
  fs::create_directories("runs", ec);
  if (ec) throw core::UserError("runs: cannot create the folder for run directories: " + ec.message());
  const std::string base = "runs/" + stem + "-" + stamp;
  // mkdir is atomic: of two runs started in the same second, one gets the name, the other the next.
  for (int n = 1;; ++n) {
    const std::string path = n == 1 ? base : base + "-" + std::to_string(n);
    if (::mkdir(path.c_str(), 0755) == 0) return path;
    if (errno != EEXIST) throw core::UserError(path + ": cannot create the run directory: " + std::strerror(errno));
  }
}

}  // namespace graybox::apps
