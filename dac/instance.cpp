#include "dac/instance.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/yaml.hpp"

namespace graybox::dac {
namespace {

std::string where(const std::string& source, const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  return source + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

// Walks a mapping: each key must be in `known`; `read(key, value, field)` parses one value,
// `field` being the dotted name used in messages. A YAML conversion error names the field.
void walk(const YAML::Node& node, const std::string& source, const std::string& prefix,
          const std::set<std::string>& known,
          const std::function<void(const std::string&, const YAML::Node&, const std::string&)>& read) {
  if (!node.IsMap()) throw core::ConfigError(where(source, node) + ": " + prefix + ": expected a mapping");
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.Scalar();
    const YAML::Node value = it->second;  // a copy: the iterator hands out a temporary
    const std::string field = prefix.empty() ? key : prefix + "." + key;
    const std::string at = where(source, it->first);
    if (!known.count(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw core::ConfigError(at + ": unknown key '" + field + "' (known: " + list + ")");
    }
    if (!seen.insert(key).second) throw core::ConfigError(at + ": duplicate key '" + field + "'");
    try {
      read(key, value, field);
    } catch (const YAML::Exception&) {
      throw core::ConfigError(at + ": " + field + ": not a valid value");
    } catch (const std::invalid_argument& e) {
      throw core::ConfigError(at + ": " + field + ": " + e.what());
    }
  }
}

double positive(const YAML::Node& v, bool allow_zero) {
  const double x = v.as<double>();
  if (!std::isfinite(x) || x < 0 || (!allow_zero && x == 0)) {
    throw std::invalid_argument(allow_zero ? "must be a number >= 0" : "must be a number > 0");
  }
  return x;
}

double unit(const YAML::Node& v) {
  const double x = v.as<double>();
  if (!(x >= 0 && x < 1)) throw std::invalid_argument("must be in [0, 1)");
  return x;
}

std::int64_t count(const YAML::Node& v, std::int64_t lowest) {
  const auto x = v.as<long long>();
  if (x < lowest) throw std::invalid_argument("must be an integer >= " + std::to_string(lowest));
  return x;
}

std::vector<long long> widths(const YAML::Node& v) {
  if (!v.IsSequence()) throw std::invalid_argument("expected a list of integers, e.g. [64, 64]");
  std::vector<long long> out;
  for (const auto& item : v) out.push_back(count(item, 1));
  return out;
}

void read_data(const YAML::Node& node, const std::string& source, tasks::SupervisedDataOptions& d) {
  walk(node, source, "data", {"name", "dir", "limit", "val_fraction", "test_fraction", "teacher"},
       [&](const std::string& key, const YAML::Node& v, const std::string&) {
         if (key == "name") {
           static const std::set<std::string> names = {"fashion_mnist", "digits", "iris", "wine", "breast_cancer",
                                                       "teacher_student"};
           d.name = v.as<std::string>();
           if (!names.count(d.name)) {
             throw std::invalid_argument("'" + d.name + "' is not one of: fashion_mnist, digits, iris, wine, "
                                         "breast_cancer, teacher_student");
           }
         } else if (key == "dir") {
           d.dir = v.as<std::string>();
         } else if (key == "limit") {
           d.limit = count(v, 0);
         } else if (key == "val_fraction" || key == "test_fraction") {
           const double x = v.as<double>();
           if (!(x > 0 && x <= 0.9)) throw std::invalid_argument("must be in (0, 0.9]");
           (key == "val_fraction" ? d.val_fraction : d.test_fraction) = x;
         } else {
           walk(v, source, "data.teacher", {"dim", "hidden", "classes", "examples", "label_noise"},
                [&](const std::string& k, const YAML::Node& t, const std::string&) {
                  auto& o = d.teacher;
                  if (k == "dim") o.dim = static_cast<int>(count(t, 1));
                  else if (k == "hidden") o.hidden = static_cast<int>(count(t, 1));
                  else if (k == "classes") o.classes = static_cast<int>(count(t, 2));
                  else if (k == "examples") o.examples = count(t, 10);
                  else {
                    o.label_noise = t.as<double>();
                    if (!(o.label_noise >= 0 && o.label_noise <= 1)) throw std::invalid_argument("must be in [0, 1]");
                  }
                });
         }
       });
}

void read_model(const YAML::Node& node, const std::string& source, optim::ModelSpec& m) {
  walk(node, source, "model", {"type", "widths", "channels", "activation", "dropout", "batch_norm"},
       [&](const std::string& key, const YAML::Node& v, const std::string&) {
         if (key == "type") {
           m.type = v.as<std::string>();
           if (m.type != "mlp" && m.type != "cnn") throw std::invalid_argument("'" + m.type + "' is not one of: mlp, cnn");
         } else if (key == "widths") {
           m.widths = widths(v);
         } else if (key == "channels") {
           m.channels = widths(v);
         } else if (key == "activation") {
           m.activation = v.as<std::string>();
           if (m.activation != "relu" && m.activation != "tanh" && m.activation != "gelu" && m.activation != "elu") {
             throw std::invalid_argument("'" + m.activation + "' is not one of: relu, tanh, gelu, elu");
           }
         } else if (key == "dropout") {
           m.dropout = v.as<double>();
           if (!(m.dropout >= 0 && m.dropout <= 0.95)) throw std::invalid_argument("must be in [0, 0.95]");
         } else {
           m.batch_norm = v.as<bool>();
         }
       });
}

void read_optimizer(const YAML::Node& node, const std::string& source, Instance& in) {
  walk(node, source, "optimizer", {"name", "lr", "weight_decay", "momentum", "nesterov", "beta1", "beta2"},
       [&](const std::string& key, const YAML::Node& v, const std::string&) {
         if (key == "name") {
           const std::string name = v.as<std::string>();
           if (name == "sgd") in.optimizer = optim::OptimizerKind::kSgd;
           else if (name == "adamw") in.optimizer = optim::OptimizerKind::kAdamW;
           else throw std::invalid_argument("'" + name + "' is not one of: sgd, adamw");
         } else if (key == "lr") {
           in.lr = positive(v, false);
         } else if (key == "weight_decay") {
           in.weight_decay = positive(v, true);
         } else if (key == "momentum") {
           in.momentum = unit(v);
         } else if (key == "nesterov") {
           in.nesterov = v.as<bool>();
         } else if (key == "beta1") {
           in.beta1 = unit(v);
         } else {
           in.beta2 = unit(v);
         }
       });
  const std::string at = where(source, node);
  const bool sgd = in.optimizer == optim::OptimizerKind::kSgd;
  if (!sgd && (node["momentum"] || node["nesterov"])) {
    throw core::ConfigError(at + ": optimizer.momentum: only for optimizer.name sgd (adamw has beta1, beta2)");
  }
  if (sgd && (node["beta1"] || node["beta2"])) {
    throw core::ConfigError(at + ": optimizer.beta1: only for optimizer.name adamw");
  }
  if (sgd && in.nesterov && in.momentum == 0) {
    throw core::ConfigError(at + ": optimizer.nesterov: Nesterov momentum needs momentum > 0");
  }
}

Instance read_instance(const YAML::Node& node, const std::string& source) {
  Instance in;
  in.where = where(source, node);
  walk(node, source, "", {"name", "data", "model", "optimizer", "batch_size", "budget", "seed"},
       [&](const std::string& key, const YAML::Node& v, const std::string&) {
         if (key == "name") in.name = v.as<std::string>();
         else if (key == "data") read_data(v, source, in.data);
         else if (key == "model") read_model(v, source, in.model);
         else if (key == "optimizer") read_optimizer(v, source, in);
         else if (key == "batch_size") in.batch_size = count(v, 1);
         else if (key == "budget") in.budget = count(v, 1);
         else in.seed = static_cast<std::uint64_t>(count(v, 0));
       });
  for (const char* required : {"name", "data", "model", "optimizer", "budget"}) {
    if (!node[required]) throw core::ConfigError(in.where + ": " + required + ": missing (every instance needs it)");
  }
  if (in.model.type == "cnn" && in.data.name != "fashion_mnist") {
    throw core::ConfigError(in.where + ": model.type: a cnn needs image data (fashion_mnist), not " + in.data.name);
  }
  return in;
}

std::vector<Instance> read_list(const YAML::Node& root, const char* key, const std::string& source) {
  const YAML::Node list = root[key];
  if (!list) throw core::ConfigError(source + ": " + key + ": missing (an instance set has a train and a test list)");
  if (!list.IsSequence() || list.size() == 0) {
    throw core::ConfigError(where(source, list) + ": " + key + ": expected a non-empty list of instances");
  }
  std::vector<Instance> out;
  for (const auto& item : list) out.push_back(read_instance(item, source));
  return out;
}

}  // namespace

bool same_problem(const Instance& a, const Instance& b) {
  const auto& x = a.data;
  const auto& y = b.data;
  const bool data = x.name == y.name && x.dir == y.dir && x.limit == y.limit && x.val_fraction == y.val_fraction &&
                    x.test_fraction == y.test_fraction && x.teacher.dim == y.teacher.dim &&
                    x.teacher.hidden == y.teacher.hidden && x.teacher.classes == y.teacher.classes &&
                    x.teacher.examples == y.teacher.examples && x.teacher.label_noise == y.teacher.label_noise;
  const auto& m = a.model;
  const auto& n = b.model;
  const bool model = m.type == n.type && m.widths == n.widths && (m.type != "cnn" || m.channels == n.channels) &&
                     m.activation == n.activation && m.dropout == n.dropout && m.batch_norm == n.batch_norm;
  return data && model && a.budget == b.budget;
}

InstanceSet parse_instance_set(const std::string& yaml_text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw core::ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                            ": malformed YAML: " + e.msg);
  }
  if (!root.IsMap()) throw core::ConfigError(source + ": an instance set is a mapping with train and test lists");
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (key != "train" && key != "test") {
      throw core::ConfigError(where(source, it->first) + ": unknown key '" + key + "' (known: train, test)");
    }
  }
  InstanceSet set;
  set.train = read_list(root, "train", source);
  set.test = read_list(root, "test", source);
  std::set<std::string> names;
  for (const auto* list : {&set.train, &set.test}) {
    for (const auto& in : *list) {
      if (!names.insert(in.name).second) {
        throw core::ConfigError(in.where + ": name: '" + in.name + "' names two instances");
      }
    }
  }
  for (const auto& t : set.test) {
    for (const auto& s : set.train) {
      if (same_problem(t, s)) {
        throw core::ConfigError(t.where + ": test instance '" + t.name + "' differs from training instance '" + s.name +
                                "' (" + s.where + ") only in seed or optimizer; a test instance must differ in data "
                                "set, model or budget");
      }
    }
  }
  return set;
}

InstanceSet load_instance_set(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw core::ConfigError(path + ": cannot open the instance set (does it exist?)");
  std::ostringstream text;
  text << file.rdbuf();
  return parse_instance_set(text.str(), path);
}

tasks::SupervisedTaskConfig task_config(const Instance& in, std::uint64_t run_seed, std::int64_t steps_per_epoch) {
  tasks::SupervisedTaskConfig c;
  c.seed = run_seed;
  c.data = in.data;
  c.data.split_seed = static_cast<std::int64_t>(in.seed);
  auto& t = c.trainer;
  t.model = in.model;
  t.optimizer = in.optimizer;
  t.batch_size = in.batch_size;
  t.settings.lr = in.lr;
  t.settings.weight_decay = in.weight_decay;
  const bool sgd = in.optimizer == optim::OptimizerKind::kSgd;
  t.settings.momentum = sgd ? in.momentum : 0.0;
  t.settings.nesterov = sgd && in.nesterov;
  t.settings.beta1 = in.beta1;
  t.settings.beta2 = in.beta2;
  t.init_seed = core::derive_seed(run_seed, core::Stream::kInit);
  t.data_seed = core::derive_seed(run_seed, core::Stream::kData, 1);
  t.noise_seed = core::derive_seed(run_seed, core::Stream::kAgent);
  c.epochs = std::max<std::int64_t>(1, (in.budget + steps_per_epoch - 1) / std::max<std::int64_t>(1, steps_per_epoch));
  c.eval_interval = std::int64_t{1} << 62;  // the env evaluates at its own cadence
  c.schedule.type = "constant";
  c.schedule_in_epochs = false;
  c.hyperparameters = core::Hyperparameters({{"learning_rate", in.lr},
                                             {"weight_decay", in.weight_decay},
                                             {"momentum", t.settings.momentum},
                                             {"beta1", in.beta1},
                                             {"beta2", in.beta2}});
  return c;
}

const optim::Split& DataCache::get(const Instance& in) {
  const auto& d = in.data;
  std::ostringstream key;
  key.precision(17);
  key << d.name << '|' << d.dir << '|' << d.limit << '|' << d.val_fraction << '|' << d.test_fraction << '|'
      << d.teacher.dim << '|' << d.teacher.hidden << '|' << d.teacher.classes << '|' << d.teacher.examples << '|'
      << d.teacher.label_noise << '|' << in.seed;
  auto it = splits_.find(key.str());
  if (it == splits_.end()) it = splits_.emplace(key.str(), tasks::load_supervised_data(in.data, in.seed)).first;
  return it->second;
}

}  // namespace graybox::dac
