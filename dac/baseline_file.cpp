#include "dac/baseline_file.hpp"

#include <filesystem>
#include <stdexcept>

#include "core/error.hpp"
#include "core/files.hpp"
#include "dac/control_config.hpp"

namespace graybox::dac {
namespace {

constexpr int kFormat = 1;

nlohmann::json instance_json(const Instance& in) {
  const auto& d = in.data;
  const auto& m = in.model;
  return {{"name", in.name},
          {"data",
           {{"name", d.name},
            {"dir", d.dir},
            {"val_fraction", d.val_fraction},
            {"test_fraction", d.test_fraction},
            {"standardize", d.standardize},
            {"limit", d.limit},
            {"split_seed", d.split_seed},
            {"teacher",
             {{"dim", d.teacher.dim},
              {"hidden", d.teacher.hidden},
              {"classes", d.teacher.classes},
              {"examples", d.teacher.examples},
              {"label_noise", d.teacher.label_noise}}}}},
          {"model",
           {{"type", m.type},
            {"widths", m.widths},
            {"channels", m.channels},
            {"activation", m.activation},
            {"dropout", m.dropout},
            {"batch_norm", m.batch_norm}}},
          {"optimizer", in.optimizer == optim::OptimizerKind::kSgd ? "sgd" : "adamw"},
          {"lr", in.lr},
          {"weight_decay", in.weight_decay},
          {"momentum", in.momentum},
          {"nesterov", in.nesterov},
          {"beta1", in.beta1},
          {"beta2", in.beta2},
          {"batch_size", in.batch_size},
          {"budget", in.budget},
          {"seed", in.seed}};
}

nlohmann::json instances_json(const std::vector<Instance>& set) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& in : set) a.push_back(instance_json(in));
  return a;
}

// The control options random control's runs depend on (not the reward or the features, so
// policies trained with other rewards share one file).
nlohmann::json random_control_json(const ControlOptions& control) {
  nlohmann::json all = control_options_to_json(control), j;
  for (const char* key : {"control_interval", "action_mode", "control_weight_decay", "max_log10_change",
                          "max_log10_offset", "lr_min", "lr_max", "wd_min", "wd_max", "val_interval"}) {
    j[key] = all.at(key);
  }
  return j;
}

}  // namespace

nlohmann::json baseline_inputs(const ControlEvalOptions& o) {
  const TuneBudget& t = o.tune;
  return {{"baselines", baseline_names()},
          {"seed", o.seed},
          {"seeds", o.seeds},
          {"tune",
           {{"trials", t.trials},
            {"searcher", t.searcher.kind},
            {"grid_points", t.searcher.grid_points},
            {"initial_points", t.searcher.initial_points},
            {"tpe_multivariate", t.searcher.tpe_multivariate},
            {"lr_factor_range", {t.lr_factor_low, t.lr_factor_high}},
            {"wd_factor_range", {t.wd_factor_low, t.wd_factor_high}}}},
          {"control", random_control_json(o.random_control)},
          {"train", instances_json(o.train)},
          {"test", instances_json(o.test)}};
}

std::string first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& at) {
  // (Numbers compare by value: a parsed 5 is unsigned, a built one signed.)
  if (a.type() != b.type() && !(a.is_number() && b.is_number())) return at.empty() ? "(the whole value)" : at;
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      const std::string here = at.empty() ? it.key() : at + "." + it.key();
      if (!b.contains(it.key())) return here;
      const std::string d = first_difference(it.value(), b.at(it.key()), here);
      if (!d.empty()) return d;
    }
    for (auto it = b.begin(); it != b.end(); ++it) {
      if (!a.contains(it.key())) return at.empty() ? it.key() : at + "." + it.key();
    }
    return "";
  }
  if (a.is_array()) {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
      const std::string d = first_difference(a[i], b[i], at + "[" + std::to_string(i) + "]");
      if (!d.empty()) return d;
    }
    return a.size() == b.size() ? "" : at + " (length " + std::to_string(a.size()) + " against " + std::to_string(b.size()) + ")";
  }
  return a == b ? "" : (at.empty() ? "(the whole value)" : at);
}

std::optional<BaselineResults> read_baseline_file(const std::string& path, const nlohmann::json& inputs) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  BaselineResults r;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(core::read_file(path));
    if (j.at("format").get<int>() != kFormat) throw std::runtime_error("format " + j.at("format").dump() + ", not 1");
    const std::string differs = first_difference(j.at("inputs"), inputs);
    if (!differs.empty()) {
      throw core::UserError(path + ": computed for other inputs (first difference: " + differs +
                            "); delete it, or set eval.baselines to another file");
    }
    for (const auto& [baseline, groups] : j.at("tuned").items()) {
      for (const auto& [group, f] : groups.items()) {
        TunedFactors t;
        t.lr_factor = f.at("lr_factor").get<double>();
        t.wd_factor = f.at("wd_factor").get<double>();
        t.loss = f.at("loss").get<double>();
        t.trials = f.at("trials").get<int>();
        t.minibatches = f.at("minibatches").get<std::int64_t>();
        r.tuned[baseline][group] = t;
      }
    }
    if (j.contains("trials")) {
      for (const auto& [baseline, groups] : j.at("trials").items()) {
        for (const auto& [group, list] : groups.items()) {
          auto& trials = r.trials[baseline][group];
          for (const auto& t : list) {
            trials.push_back({t.at("lr_factor").get<double>(), t.at("wd_factor").get<double>(), t.at("loss").get<double>(),
                              t.at("minibatches").get<std::int64_t>()});
          }
        }
      }
    }
    r.complete = j.value("complete", true);
    r.tuning_minibatches = j.at("tuning_minibatches").get<std::int64_t>();
    r.tuning_seconds = j.at("tuning_seconds").get<double>();
    for (const auto& run : j.at("runs")) {
      RunRecord x;
      x.method = run.at("method").get<std::string>();
      x.instance = run.at("instance").get<std::string>();
      x.seed = run.at("seed").get<int>();
      x.test_loss = run.at("test_loss").get<double>();
      x.test_accuracy = run.at("test_accuracy").get<double>();
      x.crashed = run.at("crashed").get<bool>();
      x.minibatches = run.at("minibatches").get<std::int64_t>();
      x.seconds = run.at("seconds").get<double>();
      r.runs.push_back(x);
    }
  } catch (const core::UserError&) {
    throw;
  } catch (const std::exception& e) {
    throw core::UserError(path + ": not a baselines file of graybox control eval (" + e.what() +
                          "); delete it, or set eval.baselines to another file");
  }
  return r;
}

void write_baseline_file(const std::string& path, const nlohmann::json& inputs, const BaselineResults& r) {
  nlohmann::json tuned = nlohmann::json::object();
  for (const auto& [baseline, groups] : r.tuned) {
    for (const auto& [group, f] : groups) {
      tuned[baseline][group] = {{"lr_factor", f.lr_factor},
                                {"wd_factor", f.wd_factor},
                                {"loss", f.loss},
                                {"trials", f.trials},
                                {"minibatches", f.minibatches}};
    }
  }
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& x : r.runs) {
    runs.push_back({{"method", x.method},
                    {"instance", x.instance},
                    {"seed", x.seed},
                    {"test_loss", x.test_loss},
                    {"test_accuracy", x.test_accuracy},
                    {"crashed", x.crashed},
                    {"minibatches", x.minibatches},
                    {"seconds", x.seconds}});
  }
  nlohmann::json trials = nlohmann::json::object();
  for (const auto& [baseline, groups] : r.trials) {
    for (const auto& [group, list] : groups) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& t : list) {
        a.push_back({{"lr_factor", t.lr_factor}, {"wd_factor", t.wd_factor}, {"loss", t.loss}, {"minibatches", t.minibatches}});
      }
      trials[baseline][group] = a;
    }
  }
  const nlohmann::json j = {{"format", kFormat},
                            {"complete", r.complete},
                            {"inputs", inputs},
                            {"tuned", tuned},
                            {"trials", trials},
                            {"tuning_minibatches", r.tuning_minibatches},
                            {"tuning_seconds", r.tuning_seconds},
                            {"runs", runs}};
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  core::write_file_atomic(path, j.dump(1) + "\n");
}

BaselineJournal::BaselineJournal(std::string path, nlohmann::json inputs, BaselineResults start)
    : path_(std::move(path)), inputs_(std::move(inputs)), results_(std::move(start)) {}

std::vector<FactorTrial> BaselineJournal::trials(const std::string& baseline, const std::string& group) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto b = results_.trials.find(baseline);
  if (b == results_.trials.end()) return {};
  const auto g = b->second.find(group);
  return g == b->second.end() ? std::vector<FactorTrial>{} : g->second;
}

std::optional<RunRecord> BaselineJournal::find_run(const std::string& method, const std::string& instance, int seed) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& run : results_.runs) {
    if (run.method == method && run.instance == instance && run.seed == seed) return run;
  }
  return std::nullopt;
}

void BaselineJournal::add_trial(const std::string& baseline, const std::string& group, const FactorTrial& trial,
                                double tuning_seconds) {
  const std::lock_guard<std::mutex> lock(mutex_);
  results_.trials[baseline][group].push_back(trial);
  results_.tuning_seconds = tuning_seconds;
  results_.complete = false;
  write_locked();
}

void BaselineJournal::finish_tuning(const std::string& baseline, const std::string& group, const TunedFactors& tuned) {
  const std::lock_guard<std::mutex> lock(mutex_);
  results_.tuned[baseline][group] = tuned;
}

void BaselineJournal::set_tuning_cost(std::int64_t minibatches, double seconds) {
  const std::lock_guard<std::mutex> lock(mutex_);
  results_.tuning_minibatches = minibatches;
  results_.tuning_seconds = seconds;
}

void BaselineJournal::add_run(const RunRecord& run) {
  const std::lock_guard<std::mutex> lock(mutex_);
  results_.runs.push_back(run);
  results_.complete = false;
  write_locked();
}

void BaselineJournal::complete() {
  const std::lock_guard<std::mutex> lock(mutex_);
  results_.complete = true;
  write_locked();
}

double BaselineJournal::tuning_seconds() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return results_.tuning_seconds;
}

void BaselineJournal::write_locked() const {
  if (!path_.empty()) write_baseline_file(path_, inputs_, results_);
}

}  // namespace graybox::dac
