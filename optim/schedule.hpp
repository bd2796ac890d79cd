// Schedules: a function t -> multiplier, where t counts minibatch steps or epochs (fractional),
// whichever unit the owner evaluates it in. A schedule's value multiplies a base value: the
// learning rate, and (as in AdamWR) optionally the weight decay with the same multiplier.
//
// Every kind takes an optional linear warm-up in front: for t < warmup the value rises linearly
// from warmup_start * inner(0) to inner(0); after it the inner schedule runs at t - warmup.
//
// In YAML (fit configs, controllers, replay files), e.g.
//   schedule: {type: sgdr, t0: 10, t_mult: 2, min: 0.0, warmup: 1}
//   schedule: {type: piecewise, points: {0: 1.0, 5: 0.1, 10: 0.01}}   # or [[0, 1.0], [5, 0.1]]
//   schedule: {type: recorded, file: runs/pbt/schedules/lr.yaml}
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace YAML {
class Node;
}

namespace graybox::optim {

// (t, value) pairs, sorted by t.
using Points = std::vector<std::pair<double, double>>;

// Every parameter of every kind; each kind reads the ones it needs. Defaults match PyTorch's
// schedulers where it has them.
struct ScheduleSpec {
  std::string type = "constant";  // constant linear step multistep exponential cosine sgdr
                                  // onecycle piecewise recorded
  double value = 1.0;             // constant
  double start = 1.0, end = 0.0;  // linear: from start to end over duration, then end
  double duration = 0.0;          // linear, cosine, onecycle: length (> 0)
  double step_size = 1.0;         // step: multiply by gamma every step_size
  double gamma = 0.1;             // step, multistep, exponential (gamma^t)
  std::vector<double> milestones; // multistep: multiply by gamma at each
  double min = 0.0;               // cosine, sgdr: the floor (eta_min as a multiplier)
  double t0 = 10.0, t_mult = 1.0; // sgdr: first period and its growth factor
  double max_at = 0.3;            // onecycle: fraction of duration spent rising (pct_start)
  double div_factor = 25.0;       // onecycle: start = 1 / div_factor
  double final_div_factor = 1e4;  // onecycle: end = start / final_div_factor
  Points points;                  // piecewise: linear between points, flat beyond them
  std::string file;               // recorded: a schedule file (see read_recorded)
  double warmup = 0.0;            // linear warm-up length in front of any kind (0: none)
  double warmup_start = 0.0;      // the warm-up's first value, as a fraction of inner(0)
};

class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual double value(double t) const = 0;
};

// Builds a schedule; throws std::invalid_argument naming the offending field ("t0: must be > 0").
// A recorded schedule reads its file here (core::UserError naming the file on a bad one).
std::shared_ptr<const Schedule> make_schedule(const ScheduleSpec& spec);

// Reads a spec from a YAML mapping; throws core::ConfigError "SOURCE:LINE:COL: ..." on a bad
// or unknown key.
ScheduleSpec parse_schedule(const YAML::Node& node, const std::string& source);
ScheduleSpec parse_schedule_text(const std::string& yaml_text, const std::string& source);

// The recorded-schedule file: what PBT lineages and policy rollouts export and what
// `type: recorded` replays. YAML
//   name: learning_rate        # what the values are (informative)
//   unit: steps                # steps or epochs (informative; the reader uses t as given)
//   interpolation: hold        # hold (the value holds until the next point) or linear
//   points: [[0, 0.001], [5000, 0.0005], ...]
// or a CSV file (*.csv) with the header "step,value" and one row per point (hold).
struct Recorded {
  std::string name = "value";
  std::string unit = "steps";
  std::string interpolation = "hold";
  Points points;
};
Recorded read_recorded(const std::string& path);  // throws core::UserError naming the file
void write_recorded(const std::string& path, const Recorded& recorded);  // YAML or CSV by suffix

// Closed forms shared by the schedules and their tests.
double cosine_anneal(double from, double to, double fraction);  // to + (from-to)(1+cos(pi f))/2

}  // namespace graybox::optim
