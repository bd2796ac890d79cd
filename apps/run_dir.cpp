#include "apps/run_dir.hpp"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <vector>

#include "core/error.hpp"
#include "core/files.hpp"

namespace fs = std::filesystem;

namespace graybox::apps {

RunDir::RunDir(std::string path) : path_(std::move(path)) {
  fs::create_directories(path_ + "/checkpoints");
}

std::string RunDir::write_checkpoint(std::int64_t step,
                                     const std::function<void(const std::string&)>& write,
                                     int keep) {
  char name[64];
  std::snprintf(name, sizeof(name), "step_%012lld", static_cast<long long>(step));
  const std::string root = path_ + "/checkpoints";
  const std::string final_dir = root + "/" + name;
  const std::string tmp_dir = root + "/.tmp_" + name;
  fs::remove_all(tmp_dir);
  fs::create_directories(tmp_dir);
  write(tmp_dir);
  for (const auto& entry : fs::directory_iterator(tmp_dir)) core::sync_path(entry.path().string());
  fs::remove_all(final_dir);
  fs::rename(tmp_dir, final_dir);
  core::sync_path(root);
  core::write_file_atomic(root + "/latest", std::string(name) + "\n");

  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string n = entry.path().filename().string();
    if (entry.is_directory() && n.rfind("step_", 0) == 0) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  for (std::size_t i = 0; i + static_cast<std::size_t>(std::max(1, keep)) < names.size(); ++i) {
    fs::remove_all(root + "/" + names[i]);
  }
  return final_dir;
}

std::string RunDir::latest_checkpoint() const {
  const std::string root = path_ + "/checkpoints";
  std::error_code ec;
  if (!fs::exists(root + "/latest", ec)) return "";
  std::string name = core::read_file(root + "/latest");
  name.erase(std::remove_if(name.begin(), name.end(), [](char c) { return c == '\n' || c == '\r'; }),
             name.end());
  const std::string dir = root + "/" + name;
  return fs::is_directory(dir, ec) ? dir : "";
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
                             const std::string& command, std::string& out) {
  out = options.out;
  if (options.resume && out.empty()) throw core::UserError("--resume needs --out RUN_DIR (the run to continue)");
  if (options.resume && fs::exists(out + "/config.yaml")) {
    return core::Config::load(out + "/config.yaml", schema, options.overrides);
  }
  if (options.config_path.empty()) throw core::UserError(command + ": a CONFIG file is required");
  core::Config config = core::Config::load(options.config_path, schema, options.overrides);
  if (out.empty()) out = default_run_path(options.config_path);
  if (!options.resume && fs::exists(out + "/checkpoints/latest")) {
    throw core::UserError(out + ": this run directory already holds a run; pass --resume to continue it or choose another --out");
  }
  return config;
}

std::string default_run_path(const std::string& config_path) {
  const std::string stem = fs::path(config_path).stem().string();
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  return "runs/" + stem + "-" + stamp;
}

}  // namespace graybox::apps
