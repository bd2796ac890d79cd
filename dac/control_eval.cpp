#include "dac/control_eval.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>

#include "core/files.hpp"
#include "core/statistics.hpp"
#include "core/error.hpp"
#include "dac/baseline_file.hpp"
#include "dac/policy_controller.hpp"

namespace graybox::dac {
namespace {

using Clock = std::chrono::steady_clock;

const char* optimizer_group(const Instance& in) { return in.optimizer == optim::OptimizerKind::kSgd ? "sgd" : "adamw"; }

// What one run ended with.
struct Outcome {
  double val_loss = 0, test_loss = 0, test_accuracy = 0, log_classes = 0;
  bool crashed = false;
  std::int64_t minibatches = 0;
};

std::unique_ptr<tasks::SupervisedTask> make_task(const Instance& in, const optim::Split& data, std::uint64_t run_seed,
                                                 const optim::ScheduleSpec& schedule, double lr, double wd) {
  const std::int64_t per_epoch = (data.train.size() + in.batch_size - 1) / in.batch_size;
  tasks::SupervisedTaskConfig c = task_config(in, run_seed, per_epoch);
  c.schedule = schedule;
  c.schedule_in_epochs = false;
  c.hyperparameters.set("learning_rate", lr);
  c.hyperparameters.set("weight_decay", wd);
  return std::make_unique<tasks::SupervisedTask>(c, data);
}

Outcome finish(tasks::SupervisedTask& task, const optim::Split& data) {
  Outcome o;
  const int classes = std::max({data.train.num_classes, data.val.num_classes, data.test.num_classes, 2});
  o.log_classes = std::log(static_cast<double>(classes));
  o.minibatches = task.steps_done();
  o.crashed = task.diverged();
  if (o.crashed) {
    o.val_loss = o.test_loss = o.log_classes;
    o.test_accuracy = 1.0 / classes;
    return o;
  }
  o.val_loss = task.evaluate_split("val").loss;
  const optim::EvalMetrics test = task.evaluate_split("test");
  o.test_loss = std::isfinite(test.loss) ? test.loss : o.log_classes;
  o.test_accuracy = test.accuracy;
  return o;
}

// One run of the policy on an instance, deployed as in graybox fit from the instance's values.
Outcome run_policy(const Instance& in, const optim::Split& data, std::uint64_t run_seed, const agents::PpoPolicy& policy,
                   const ControlOptions& policy_control) {
  core::NullSink none;
  auto task = make_task(in, data, run_seed, baseline_schedule("constant", in.budget), in.lr, in.weight_decay);
  LoadedPolicy copy{std::make_unique<agents::PpoPolicy>(policy), policy_control};
  PolicyController controller(std::move(copy), *task, in.budget);
  controller.start(in.lr, in.weight_decay);
  while (!controller.done()) controller.step(none);
  return finish(*task, data);
}

// One run of a baseline on an instance: random control, or a schedule at the factors' base values.
Outcome run_baseline(const std::string& method, const Instance& in, const optim::Split& data, std::uint64_t run_seed,
                     const ControlOptions& random_control, const TunedFactors& factors) {
  core::NullSink none;
  const double lr = in.lr * factors.lr_factor, wd = in.weight_decay * factors.wd_factor;
  auto task = make_task(in, data, run_seed, baseline_schedule(method, in.budget), lr, wd);
  if (method == "random") {
    ControlLoop loop(*task, random_control, in.budget);
    loop.start(lr, std::max(wd, random_control.wd_min));
    envs::EnvSpec spec;
    action_space(random_control, spec);
    core::Rng rng(core::derive_seed(run_seed, core::Stream::kController));
    std::vector<double> action(static_cast<std::size_t>(spec.act_dim));
    while (!loop.done()) {
      for (int j = 0; j < spec.act_dim; ++j) action[j] = spec.act_low[j] + rng.uniform() * (spec.act_high[j] - spec.act_low[j]);
      loop.step(action.data(), none);
    }
    return finish(*task, data);
  }
  task->train(in.budget, none);
  return finish(*task, data);
}

std::uint64_t eval_seed(std::uint64_t seed, std::size_t instance, int k) {
  return core::derive_seed(seed, core::Stream::kEval, instance * 1000 + static_cast<std::uint64_t>(k));
}

template <typename F>
void in_arena(int threads, F&& f) {
  tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
  arena.execute(f);
}

// Tunes every baseline's factors: one job per (baseline, optimizer) with the training
// instances of that optimizer. Each trial goes to the journal as it finishes; the trials it
// already holds (an earlier eval's) are replayed, not run again.
void tune_baselines(const ControlEvalOptions& o, tbb::enumerable_thread_specific<DataCache>& caches,
                    BaselineJournal& journal, ControlEvalReport& report) {
  const double seconds_before = journal.tuning_seconds();
  const auto tune_start = Clock::now();
  const auto seconds_so_far = [&] { return seconds_before + std::chrono::duration<double>(Clock::now() - tune_start).count(); };
  struct TuneJob {
    std::string baseline, group;
    std::vector<const Instance*> instances;
    TunedFactors result;
  };
  std::vector<TuneJob> jobs;
  std::atomic<std::size_t> recorded{0};
  for (const auto& b : baseline_names()) {
    for (const char* group : {"sgd", "adamw"}) {
      TuneJob job{b, group, {}, {}};
      for (const auto& in : o.train) {
        if (optimizer_group(in) == std::string(group)) job.instances.push_back(&in);
      }
      if (!job.instances.empty()) jobs.push_back(job);
    }
  }
  in_arena(o.num_threads, [&] {
    tbb::parallel_for(std::size_t{0}, jobs.size(), [&](std::size_t j) {
      TuneJob& job = jobs[j];
      DataCache& cache = caches.local();
      const std::vector<FactorTrial> done = journal.trials(job.baseline, job.group);
      recorded += done.size();
      // The trial's index picks its runs' seeds, so a continued tuning starts counting after
      // the recorded trials.
      std::int64_t trial = static_cast<std::int64_t>(done.size());
      const auto objective = [&](double lr_factor, double wd_factor) {
        TunedFactors f;
        f.lr_factor = lr_factor;
        f.wd_factor = wd_factor;
        double sum = 0;
        std::int64_t minibatches = 0;
        for (std::size_t i = 0; i < job.instances.size(); ++i) {
          const Instance& in = *job.instances[i];
          const std::uint64_t run_seed = core::derive_seed(o.seed, core::Stream::kTrial, static_cast<std::uint64_t>(trial) * 1000 + i);
          const Outcome out = run_baseline(job.baseline, in, cache.get(in), run_seed, o.random_control, f);
          minibatches += out.minibatches;
          sum += out.crashed ? INFINITY : out.val_loss / out.log_classes;
        }
        ++trial;
        return std::make_pair(sum / static_cast<double>(job.instances.size()), minibatches);
      };
      const TrialCallback record = [&](const FactorTrial& t) { journal.add_trial(job.baseline, job.group, t, seconds_so_far()); };
      try {
        job.result = tune_factors(o.tune, core::derive_seed(o.seed, core::Stream::kTrial, j), objective, done, record);
      } catch (const std::runtime_error& e) {
        throw core::UserError(o.baselines_file + ": the recorded tuning of " + job.baseline + " (" + job.group + ") " +
                              "does not continue: " + e.what() + "; delete it, or set eval.baselines to another file");
      }
      journal.finish_tuning(job.baseline, job.group, job.result);
    });
  });
  for (const auto& job : jobs) {
    report.tuned[job.baseline][job.group] = job.result;
    report.tuning_minibatches += job.result.minibatches;
  }
  report.recorded_trials = recorded;
  report.tuning_seconds = seconds_so_far();
  journal.set_tuning_cost(report.tuning_minibatches, report.tuning_seconds);
}

// Ranks (1 = lowest), ties sharing the mean of their places.
std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<double> r(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    double below = 0, same = 0;
    for (const double y : x) {
      if (y < x[i]) ++below;
      if (y == x[i]) ++same;
    }
    r[i] = below + (same + 1) / 2.0;
  }
  return r;
}

}  // namespace

std::vector<std::string> eval_methods() {
  std::vector<std::string> m = {"policy"};
  for (const auto& b : baseline_names()) m.push_back(b);
  return m;
}

ControlEvalReport run_control_eval(const ControlEvalOptions& o, const agents::PpoPolicy& policy,
                                   const ControlOptions& policy_control) {
  ControlEvalReport report;
  tbb::enumerable_thread_specific<DataCache> caches;
  const nlohmann::json inputs = baseline_inputs(o);
  std::optional<BaselineResults> kept;
  if (!o.baselines_file.empty()) kept = read_baseline_file(o.baselines_file, inputs);
  const bool complete = kept && kept->complete;

  // A complete file gives the baselines' side whole; otherwise the baselines are tuned and run
  // here, through a journal that continues an incomplete file and keeps the file up to date.
  std::unique_ptr<BaselineJournal> journal;
  if (complete) {
    report.baselines_from = o.baselines_file;
    report.tuned = kept->tuned;
    report.tuning_minibatches = kept->tuning_minibatches;
    report.tuning_seconds = kept->tuning_seconds;
  } else {
    journal = std::make_unique<BaselineJournal>(o.baselines_file, inputs, kept ? *kept : BaselineResults{});
    tune_baselines(o, caches, *journal, report);
  }

  // The test runs: every method, instance and seed (the baselines' from the file if kept).
  const std::vector<std::string> methods = eval_methods();
  for (const auto& m : methods) {
    for (const auto& in : o.test) {
      for (int k = 0; k < o.seeds; ++k) report.runs.push_back({m, in.name, k, 0, 0, false, 0, 0});
    }
  }
  std::vector<std::size_t> to_run;
  for (std::size_t r = 0; r < report.runs.size(); ++r) {
    RunRecord& run = report.runs[r];
    if (run.method == "policy") {
      to_run.push_back(r);
      continue;
    }
    if (journal) {
      if (const std::optional<RunRecord> recorded = journal->find_run(run.method, run.instance, run.seed)) {
        run = *recorded;
        ++report.recorded_runs;
      } else {
        to_run.push_back(r);
      }
      continue;
    }
    const auto it = std::find_if(kept->runs.begin(), kept->runs.end(), [&](const RunRecord& x) {
      return x.method == run.method && x.instance == run.instance && x.seed == run.seed;
    });
    if (it == kept->runs.end()) {
      throw core::UserError(o.baselines_file + ": has no run of " + run.method + " on " + run.instance + " seed " +
                            std::to_string(run.seed) + "; delete it, or set eval.baselines to another file");
    }
    run = *it;
  }
  in_arena(o.num_threads, [&] {
    tbb::parallel_for(std::size_t{0}, to_run.size(), [&](std::size_t j) {
      const std::size_t r = to_run[j];
      RunRecord& run = report.runs[r];
      const std::size_t index = (r / static_cast<std::size_t>(o.seeds)) % o.test.size();
      const Instance& in = o.test[index];
      const optim::Split& data = caches.local().get(in);
      const std::uint64_t run_seed = eval_seed(o.seed, index, run.seed);
      const auto start = Clock::now();
      Outcome out;
      if (run.method == "policy") {
        out = run_policy(in, data, run_seed, policy, policy_control);
      } else {
        TunedFactors factors;
        const auto& by_group = report.tuned.at(run.method);
        const auto it = by_group.find(optimizer_group(in));
        if (it != by_group.end()) factors = it->second;  // no training instance of this optimizer: factors 1
        out = run_baseline(run.method, in, data, run_seed, o.random_control, factors);
      }
      run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      run.test_loss = out.test_loss;
      run.test_accuracy = out.test_accuracy;
      run.crashed = out.crashed;
      run.minibatches = out.minibatches;
      if (journal && run.method != "policy") journal->add_run(run);
    });
  });
  if (journal) journal->complete();

  report.methods = summarize_methods(report.runs, o.test.size(), o.seeds, o.seed);
  return report;
}

std::vector<MethodSummary> summarize_methods(const std::vector<RunRecord>& runs, std::size_t instances, int seeds,
                                             std::uint64_t seed) {
  const std::vector<std::string> methods = eval_methods();
  // Per method, the mean over instances of the seeds' mean, its stratified bootstrap interval,
  // the average rank over (instance, seed), the per-instance wins and P(policy better).
  const std::size_t per_method = instances * static_cast<std::size_t>(seeds);
  if (runs.size() != methods.size() * per_method) throw std::logic_error("summarize_methods: runs missing");
  const auto run_at = [&](std::size_t m, std::size_t i, int k) -> const RunRecord& {
    return runs[m * per_method + i * static_cast<std::size_t>(seeds) + static_cast<std::size_t>(k)];
  };
  const auto loss_at = [&](std::size_t m, std::size_t i, int k) { return run_at(m, i, k).test_loss; };
  std::vector<double> rank_sum(methods.size(), 0.0);
  for (std::size_t i = 0; i < instances; ++i) {
    for (int k = 0; k < seeds; ++k) {
      std::vector<double> x;
      for (std::size_t m = 0; m < methods.size(); ++m) x.push_back(loss_at(m, i, k));
      const std::vector<double> r = ranks(x);
      for (std::size_t m = 0; m < methods.size(); ++m) rank_sum[m] += r[m];
    }
  }
  const auto instance_mean = [&](std::size_t m, std::size_t i) {
    double s = 0;
    for (int k = 0; k < seeds; ++k) s += loss_at(m, i, k);
    return s / seeds;
  };
  // Lower loss is better: the probability of improvement compares negated losses.
  const auto negated = [&](std::size_t m) {
    core::TaskScores scores(instances);
    for (std::size_t i = 0; i < instances; ++i) {
      for (int k = 0; k < seeds; ++k) scores[i].push_back(-loss_at(m, i, k));
    }
    return scores;
  };
  const core::TaskScores policy = negated(0);
  std::vector<MethodSummary> out;
  for (std::size_t m = 0; m < methods.size(); ++m) {
    MethodSummary s;
    s.method = methods[m];
    core::TaskScores scores(instances);
    double accuracy = 0;
    for (std::size_t i = 0; i < instances; ++i) {
      for (int k = 0; k < seeds; ++k) {
        scores[i].push_back(loss_at(m, i, k));
        accuracy += run_at(m, i, k).test_accuracy;
      }
      if (m > 0 && instance_mean(m, i) < instance_mean(0, i)) ++s.wins_against_policy;
    }
    const core::Interval interval = core::aggregate_interval(scores, core::mean, 2000, seed);
    s.mean_loss = interval.point;
    s.loss_low = interval.low;
    s.loss_high = interval.high;
    s.mean_accuracy = accuracy / static_cast<double>(per_method);
    s.average_rank = rank_sum[m] / static_cast<double>(per_method);
    if (m > 0) {
      const core::Interval p = core::probability_of_improvement_interval(policy, negated(m), 2000, seed);
      s.policy_better = p.point;
      s.policy_better_low = p.low;
      s.policy_better_high = p.high;
    }
    out.push_back(s);
  }
  return out;
}

std::string format_control_eval(const ControlEvalReport& report, const std::vector<Instance>& test) {
  std::ostringstream out;
  char line[512];
  const std::vector<std::string> methods = eval_methods();
  out << "final test loss and accuracy per instance (mean over seeds [95 % bootstrap interval]):\n";
  for (const auto& in : test) {
    out << "  " << in.name << "\n";
    for (const auto& m : methods) {
      std::vector<double> losses;
      double accuracy = 0;
      int crashed = 0;
      for (const auto& r : report.runs) {
        if (r.method != m || r.instance != in.name) continue;
        losses.push_back(r.test_loss);
        accuracy += r.test_accuracy;
        crashed += r.crashed ? 1 : 0;
      }
      const core::Interval iv = core::aggregate_interval({losses}, core::mean, 2000, 1);
      std::snprintf(line, sizeof(line), "    %-14s loss %.4f [%.4f, %.4f]  accuracy %.4f%s\n", m.c_str(), iv.point, iv.low,
                    iv.high, accuracy / static_cast<double>(losses.size()),
                    crashed ? ("  (" + std::to_string(crashed) + " crashed)").c_str() : "");
      out << line;
    }
  }
  out << "\nper method over the test instances (mean of the instances' means [95 % stratified bootstrap interval]):\n";
  std::snprintf(line, sizeof(line), "  %-14s %-30s %-9s %-9s %-10s %s\n", "method", "test loss", "accuracy", "avg rank",
                "beats it", "P(policy better) [95 %]");
  out << line;
  for (const auto& s : report.methods) {
    char loss[64], wins[32], better[96];
    std::snprintf(loss, sizeof(loss), "%.4f [%.4f, %.4f]", s.mean_loss, s.loss_low, s.loss_high);
    const bool policy = s.method == "policy";
    std::snprintf(wins, sizeof(wins), "%s", policy ? "-" : (std::to_string(s.wins_against_policy) + "/" + std::to_string(test.size())).c_str());
    if (policy) {
      std::snprintf(better, sizeof(better), "-");
    } else {
      const char* verdict = s.policy_better_low > 0.5 ? "  policy better" : s.policy_better_high < 0.5 ? "  policy worse" : "";
      std::snprintf(better, sizeof(better), "%.3f [%.3f, %.3f]%s", s.policy_better, s.policy_better_low,
                    s.policy_better_high, verdict);
    }
    std::snprintf(line, sizeof(line), "  %-14s %-30s %-9.4f %-9.2f %-10s %s\n", s.method.c_str(), loss, s.mean_accuracy,
                  s.average_rank, wins, better);
    out << line;
  }
  out << "  (beats it: instances where the method's mean test loss is below the policy's; P(policy better): the\n"
         "   probability that a policy run ends with a lower test loss than a run of the method on the same\n"
         "   instance, averaged over instances, with its 95 % stratified bootstrap interval; \"policy better\" or\n"
         "   \"worse\" where the interval excludes 0.5)\n";
  out << "\ntuned base values (factors of each instance's lr and wd, on the training instances):\n";
  for (const auto& [baseline, groups] : report.tuned) {
    for (const auto& [group, f] : groups) {
      std::snprintf(line, sizeof(line), "  %-14s %-6s lr x%.3g  wd x%.3g  (objective %.4f, %d trials)\n", baseline.c_str(),
                    group.c_str(), f.lr_factor, f.wd_factor, f.loss, f.trials);
      out << line;
    }
  }
  std::int64_t policy_minibatches = 0, baseline_minibatches = 0;
  double policy_seconds = 0, baseline_seconds = 0;
  for (const auto& r : report.runs) {
    (r.method == "policy" ? policy_minibatches : baseline_minibatches) += r.minibatches;
    (r.method == "policy" ? policy_seconds : baseline_seconds) += r.seconds;
  }
  std::snprintf(line, sizeof(line),
                "\ncost: baseline tuning %lld minibatches, %.1f s wall; deployment: policy %lld minibatches, %.1f s "
                "(summed over runs), baselines %lld minibatches, %.1f s\n",
                static_cast<long long>(report.tuning_minibatches), report.tuning_seconds,
                static_cast<long long>(policy_minibatches), policy_seconds, static_cast<long long>(baseline_minibatches),
                baseline_seconds);
  out << line;
  if (!report.baselines_from.empty()) {
    out << "baselines (tuning and test runs, their costs above as recorded): read from " << report.baselines_from << "\n";
  } else if (report.recorded_trials > 0 || report.recorded_runs > 0) {
    out << "baselines: continued from the file an earlier, unfinished eval wrote (" << report.recorded_trials
        << " tuning trials and " << report.recorded_runs << " test runs recorded there; the costs above include theirs)\n";
  }
  return out.str();
}

void write_control_eval_csv(const ControlEvalReport& report, const std::string& path) {
  std::ostringstream out;
  out.precision(10);
  out << "method,instance,seed,test_loss,test_accuracy,crashed,minibatches,seconds\n";
  for (const auto& r : report.runs) {
    out << r.method << ',' << r.instance << ',' << r.seed << ',' << r.test_loss << ',' << r.test_accuracy << ','
        << (r.crashed ? 1 : 0) << ',' << r.minibatches << ',' << r.seconds << '\n';
  }
  core::write_file_atomic(path, out.str());
}

}  // namespace graybox::dac
