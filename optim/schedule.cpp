#include "optim/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/yaml.hpp"

namespace graybox::optim {
namespace {

constexpr double kPi = 3.14159265358979323846;

[[noreturn]] void bad(const std::string& field, const std::string& message) {
  throw std::invalid_argument(field + ": " + message);
}

void require_positive(double v, const char* field) {
  if (!(v > 0.0) || !std::isfinite(v)) bad(field, "must be > 0");
}

class Constant : public Schedule {
 public:
  explicit Constant(double v) : v_(v) {}
  double value(double) const override { return v_; }

 private:
  double v_;
};

class Linear : public Schedule {
 public:
  Linear(double start, double end, double duration) : start_(start), end_(end), duration_(duration) {}
  double value(double t) const override {
    const double f = std::clamp(t / duration_, 0.0, 1.0);
    return start_ + (end_ - start_) * f;
  }

 private:
  double start_, end_, duration_;
};

class StepDecay : public Schedule {
 public:
  StepDecay(double step_size, double gamma) : step_size_(step_size), gamma_(gamma) {}
  double value(double t) const override {
    return std::pow(gamma_, std::floor(std::max(t, 0.0) / step_size_));
  }

 private:
  double step_size_, gamma_;
};

class MultiStep : public Schedule {
 public:
  MultiStep(std::vector<double> milestones, double gamma) : milestones_(std::move(milestones)), gamma_(gamma) {}
  double value(double t) const override {
    const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), t) - milestones_.begin();
    return std::pow(gamma_, static_cast<double>(passed));
  }

 private:
  std::vector<double> milestones_;
  double gamma_;
};

class Exponential : public Schedule {
 public:
  explicit Exponential(double gamma) : gamma_(gamma) {}
  double value(double t) const override { return std::pow(gamma_, std::max(t, 0.0)); }

 private:
  double gamma_;
};

class Cosine : public Schedule {
 public:
  Cosine(double duration, double min) : duration_(duration), min_(min) {}
  double value(double t) const override {
    return cosine_anneal(1.0, min_, std::clamp(t / duration_, 0.0, 1.0));
  }

 private:
  double duration_, min_;
};

// SGDR (Loshchilov & Hutter 2017): cosine from 1 to min over T_i, then restart with
// T_{i+1} = T_mult * T_i.
class Sgdr : public Schedule {
 public:
  Sgdr(double t0, double t_mult, double min) : t0_(t0), t_mult_(t_mult), min_(min) {}
  double value(double t) const override {
    t = std::max(t, 0.0);
    double period = t0_, cur = t;
    if (t_mult_ == 1.0) {
      cur = std::fmod(t, t0_);
    } else {
      // Periods end at t0 (t_mult^n - 1)/(t_mult - 1); find n in closed form, then fix up
      // rounding at a boundary so a restart point starts its new period exactly.
      const double n = std::floor(std::log(t / t0_ * (t_mult_ - 1.0) + 1.0) / std::log(t_mult_));
      double begin = t0_ * (std::pow(t_mult_, n) - 1.0) / (t_mult_ - 1.0);
      period = t0_ * std::pow(t_mult_, n);
      if (t < begin) {
        period /= t_mult_;
        begin -= period;
      } else if (t >= begin + period) {
        begin += period;
        period *= t_mult_;
      }
      cur = t - begin;
    }
    return cosine_anneal(1.0, min_, cur / period);
  }

 private:
  double t0_, t_mult_, min_;
};

// One-cycle (Smith & Topin 2019, PyTorch's OneCycleLR with cosine annealing), as a multiplier
// of the maximum: rises from 1/div_factor to 1 over max_at*duration, then falls to
// 1/(div_factor*final_div_factor) at duration. Continuous in t (PyTorch counts integer steps
// and ends the phases one step earlier).
class OneCycle : public Schedule {
 public:
  OneCycle(double duration, double max_at, double div, double final_div)
      : rise_(duration * max_at), fall_(duration * (1.0 - max_at)), initial_(1.0 / div),
        final_(1.0 / (div * final_div)) {}
  double value(double t) const override {
    if (t <= rise_) return cosine_anneal(initial_, 1.0, rise_ > 0 ? std::max(t, 0.0) / rise_ : 1.0);
    return cosine_anneal(1.0, final_, fall_ > 0 ? std::min((t - rise_) / fall_, 1.0) : 1.0);
  }

 private:
  double rise_, fall_, initial_, final_;
};

class Piecewise : public Schedule {
 public:
  Piecewise(Points points, bool hold) : points_(std::move(points)), hold_(hold) {}
  double value(double t) const override {
    const auto after = std::upper_bound(points_.begin(), points_.end(), t,
                                        [](double x, const auto& p) { return x < p.first; });
    if (after == points_.begin()) return points_.front().second;
    const auto before = after - 1;
    if (after == points_.end() || hold_) return before->second;
    const double f = (t - before->first) / (after->first - before->first);
    return before->second + (after->second - before->second) * f;
  }

 private:
  Points points_;
  bool hold_;
};

class Warmup : public Schedule {
 public:
  Warmup(double length, double start, std::shared_ptr<const Schedule> inner)
      : length_(length), start_(start), inner_(std::move(inner)) {}
  double value(double t) const override {
    if (t >= length_) return inner_->value(t - length_);
    const double f = std::max(t, 0.0) / length_;
    return inner_->value(0.0) * (start_ + (1.0 - start_) * f);
  }

 private:
  double length_, start_;
  std::shared_ptr<const Schedule> inner_;
};

void check_points(const Points& points, const char* field) {
  if (points.empty()) bad(field, "needs at least one (step, value) point");
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!std::isfinite(points[i].first) || !std::isfinite(points[i].second)) bad(field, "points must be finite numbers");
    if (i > 0 && !(points[i].first > points[i - 1].first)) bad(field, "the steps must increase strictly");
  }
}

std::shared_ptr<const Schedule> make_inner(const ScheduleSpec& s) {
  const std::string& type = s.type;
  if (type == "constant") return std::make_shared<Constant>(s.value);
  if (type == "linear") {
    require_positive(s.duration, "duration");
    return std::make_shared<Linear>(s.start, s.end, s.duration);
  }
  if (type == "step") {
    require_positive(s.step_size, "step_size");
    require_positive(s.gamma, "gamma");
    return std::make_shared<StepDecay>(s.step_size, s.gamma);
  }
  if (type == "multistep") {
    require_positive(s.gamma, "gamma");
    if (s.milestones.empty()) bad("milestones", "needs at least one milestone");
    if (!std::is_sorted(s.milestones.begin(), s.milestones.end())) bad("milestones", "must increase");
    return std::make_shared<MultiStep>(s.milestones, s.gamma);
  }
  if (type == "exponential") {
    require_positive(s.gamma, "gamma");
    return std::make_shared<Exponential>(s.gamma);
  }
  if (type == "cosine") {
    require_positive(s.duration, "duration");
    return std::make_shared<Cosine>(s.duration, s.min);
  }
  if (type == "sgdr") {
    require_positive(s.t0, "t0");
    if (!(s.t_mult >= 1.0)) bad("t_mult", "must be >= 1");
    return std::make_shared<Sgdr>(s.t0, s.t_mult, s.min);
  }
  if (type == "onecycle") {
    require_positive(s.duration, "duration");
    if (!(s.max_at >= 0.0 && s.max_at <= 1.0)) bad("max_at", "must be in [0, 1]");
    require_positive(s.div_factor, "div_factor");
    require_positive(s.final_div_factor, "final_div_factor");
    return std::make_shared<OneCycle>(s.duration, s.max_at, s.div_factor, s.final_div_factor);
  }
  if (type == "piecewise") {
    check_points(s.points, "points");
    return std::make_shared<Piecewise>(s.points, false);
  }
  if (type == "recorded") {
    if (s.file.empty()) bad("file", "a recorded schedule needs a file");
    Recorded r = read_recorded(s.file);
    return std::make_shared<Piecewise>(std::move(r.points), r.interpolation == "hold");
  }
  bad("type", "'" + type + "' is not one of: constant, linear, step, multistep, exponential, "
              "cosine, sgdr, onecycle, piecewise, recorded");
}

std::string where(const std::string& source, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return source;
  return source + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

Points parse_points(const YAML::Node& node, const std::string& source) {
  Points points;
  if (node.IsMap()) {  // {step: value, ...}
    for (auto it = node.begin(); it != node.end(); ++it) {
      points.emplace_back(it->first.as<double>(), it->second.as<double>());
    }
  } else if (node.IsSequence()) {  // [[step, value], ...]
    for (const auto& item : node) {
      if (!item.IsSequence() || item.size() != 2) {
        throw core::ConfigError(where(source, item) + ": points: expected [step, value] pairs");
      }
      points.emplace_back(item[0].as<double>(), item[1].as<double>());
    }
  } else {
    throw core::ConfigError(where(source, node) + ": points: expected a list of [step, value] pairs");
  }
  std::sort(points.begin(), points.end());
  return points;
}

Recorded read_recorded_csv(const std::string& path, const std::string& text) {
  Recorded r;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (number == 1 && line.find_first_not_of("0123456789.-+eE, \t") != std::string::npos) continue;  // header
    std::istringstream row(line);
    double step = 0, value = 0;
    char comma = 0;
    if (!(row >> step >> comma >> value) || comma != ',') {
      throw core::UserError(path + ":" + std::to_string(number) + ": expected 'step,value', got '" + line + "'");
    }
    r.points.emplace_back(step, value);
  }
  return r;
}

}  // namespace

double cosine_anneal(double from, double to, double fraction) {
  return to + (from - to) * 0.5 * (1.0 + std::cos(kPi * fraction));
}

std::shared_ptr<const Schedule> make_schedule(const ScheduleSpec& spec) {
  auto inner = make_inner(spec);
  if (spec.warmup < 0.0 || !std::isfinite(spec.warmup)) bad("warmup", "must be >= 0");
  if (spec.warmup == 0.0) return inner;
  return std::make_shared<Warmup>(spec.warmup, spec.warmup_start, std::move(inner));
}

ScheduleSpec parse_schedule(const YAML::Node& node, const std::string& source) {
  if (!node.IsMap()) throw core::ConfigError(where(source, node) + ": a schedule must be a mapping such as {type: cosine, duration: 10}");
  ScheduleSpec s;
  static const std::set<std::string> known = {
      "type", "value", "start", "end", "duration", "step_size", "gamma", "milestones", "min",
      "t0", "t_mult", "max_at", "div_factor", "final_div_factor", "points", "file", "warmup",
      "warmup_start"};
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.Scalar();
    const YAML::Node v = it->second;  // a copy: the iterator hands out a temporary
    const std::string at = where(source, it->first);
    if (!known.count(key)) throw core::ConfigError(at + ": unknown schedule key '" + key + "'");
    try {
      if (key == "type") s.type = v.as<std::string>();
      else if (key == "file") s.file = v.as<std::string>();
      else if (key == "points") s.points = parse_points(v, source);
      else if (key == "milestones") s.milestones = v.as<std::vector<double>>();
      else {
        const double x = v.as<double>();
        if (key == "value") s.value = x;
        else if (key == "start") s.start = x;
        else if (key == "end") s.end = x;
        else if (key == "duration") s.duration = x;
        else if (key == "step_size") s.step_size = x;
        else if (key == "gamma") s.gamma = x;
        else if (key == "min") s.min = x;
        else if (key == "t0") s.t0 = x;
        else if (key == "t_mult") s.t_mult = x;
        else if (key == "max_at") s.max_at = x;
        else if (key == "div_factor") s.div_factor = x;
        else if (key == "final_div_factor") s.final_div_factor = x;
        else if (key == "warmup") s.warmup = x;
        else if (key == "warmup_start") s.warmup_start = x;
      }
    } catch (const YAML::Exception&) {
      throw core::ConfigError(at + ": " + key + ": not a valid value");
    }
  }
  try {
    make_schedule(s);  // validate now, so the error points at this mapping
  } catch (const std::invalid_argument& e) {
    throw core::ConfigError(where(source, node) + ": schedule " + e.what());
  }
  return s;
}

ScheduleSpec parse_schedule_text(const std::string& yaml_text, const std::string& source) {
  YAML::Node node;
  try {
    node = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw core::ConfigError(source + ": malformed YAML: " + e.msg);
  }
  return parse_schedule(node, source);
}

Recorded read_recorded(const std::string& path) {
  const std::string text = core::read_file(path);
  Recorded r;
  const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  if (csv) {
    r = read_recorded_csv(path, text);
  } else {
    try {
      const YAML::Node root = YAML::Load(text);
      if (!root.IsMap() || !root["points"]) throw core::UserError(path + ": a recorded schedule needs a 'points' list");
      if (root["name"]) r.name = root["name"].as<std::string>();
      if (root["unit"]) r.unit = root["unit"].as<std::string>();
      if (root["interpolation"]) r.interpolation = root["interpolation"].as<std::string>();
      r.points = parse_points(root["points"], path);
    } catch (const YAML::Exception& e) {
      throw core::UserError(path + ": not a valid recorded schedule (" + e.msg + ")");
    } catch (const core::ConfigError& e) {
      throw core::UserError(e.what());
    }
  }
  if (r.interpolation != "hold" && r.interpolation != "linear") {
    throw core::UserError(path + ": interpolation must be hold or linear, not '" + r.interpolation + "'");
  }
  std::sort(r.points.begin(), r.points.end());
  try {
    check_points(r.points, "points");
  } catch (const std::invalid_argument& e) {
    throw core::UserError(path + ": " + e.what());
  }
  return r;
}

void write_recorded(const std::string& path, const Recorded& r) {
  std::ostringstream out;
  out.precision(17);
  const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  if (csv) {
    out << "step,value\n";
    for (const auto& [t, v] : r.points) out << t << ',' << v << '\n';
  } else {
    out << "name: " << r.name << "\nunit: " << r.unit << "\ninterpolation: " << r.interpolation
        << "\npoints:\n";
    for (const auto& [t, v] : r.points) out << "  - [" << t << ", " << v << "]\n";
  }
  core::write_file_atomic(path, out.str());
}

}  // namespace graybox::optim
