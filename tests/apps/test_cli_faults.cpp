// Faults and resumes, end to end (issue 11): two processes on one run directory, default run
// names, resumes that must refuse or continue, a full disk, paths relative to their file, and
// every shipped config running clean. Tiny budgets: a few hundred env steps per run.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <tuple>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/files.hpp"
#include "store/sqlite_store.hpp"
#include "tests/apps/cli.hpp"

namespace {

using namespace graybox_cli_test;
using graybox::core::read_file;
using graybox::store::SqliteStore;

nlohmann::json summary_of(const std::string& run_dir) { return nlohmann::json::parse(read_file(run_dir + "/summary.json")); }

std::vector<std::int64_t> steps_of(const std::string& run_dir, const std::string& metric) {
  SqliteStore store(run_dir + "/store.sqlite");
  std::vector<std::int64_t> steps;
  for (const auto& row : store.metrics(0, metric)) steps.push_back(row.step);
  return steps;
}

// Starts `graybox ARGS...` as a child process; returns its pid.
pid_t start(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(GRAYBOX_BIN)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(GRAYBOX_BIN, argv.data());
    ::_exit(127);
  }
  return pid;
}

// Unmounts a test's file system however the test ends.
struct Unmount {
  std::string path;
  bool mounted;
  ~Unmount() {
    if (mounted) ::umount(path.c_str());
  }
};

void kill_and_wait(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

// Issue 11 item 4: a second process in a running run's directory is refused, naming the pid.
TEST_F(Cli, ARunDirectoryInUseRefusesASecondProcess) {
  const std::string config = write("tiny.yaml", kTinyConfig);
  const std::string out = dir_ + "/run";
  const pid_t pid = start({"train", config, "--quiet", "--set", "total_steps=2000000", "--out", out});
  for (int i = 0; i < 300 && !fs::exists(out + "/config.yaml"); ++i) ::usleep(50000);
  ASSERT_TRUE(fs::exists(out + "/config.yaml"));
  const std::string in_use = "in use by pid " + std::to_string(pid);
  Result r = run("train --resume --quiet --out " + out);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(in_use), std::string::npos) << r.output;
  r = run("train " + config + " --quiet --out " + out);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(in_use), std::string::npos) << r.output;
  r = run("eval " + out + " --episodes 1");
  EXPECT_EQ(r.code, 2) << r.output;
  kill_and_wait(pid);
  // The kernel released the lock with its holder: the run continues.
  r = run("train --resume --quiet --set total_steps=1024 --set eval.episodes=0 --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto steps = steps_of(out, "losses/value_loss");
  EXPECT_EQ(std::set<std::int64_t>(steps.begin(), steps.end()).size(), steps.size()) << "duplicate rows";
}

// Issue 11 item 5 (and 14: --quiet with the default --out still says where the run went).
TEST_F(Cli, DefaultRunNamesNeverCollide) {
  write("tiny.yaml", kTinyConfig);
  // Runs that already hold every name of the next few seconds.
  for (std::time_t t = std::time(nullptr); t < std::time(nullptr) + 15; ++t) {
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&t));
    write(std::string("runs/tiny-") + stamp + "/config.yaml", "seed: 1\n");
    write(std::string("runs/tiny-") + stamp + "/checkpoints/latest", "step_000000000256\n");
  }
  const Result r = run_in(dir_, "train tiny.yaml --quiet --set total_steps=256 --set eval.episodes=0");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto at = r.output.find("run directory: runs/tiny-");
  ASSERT_NE(at, std::string::npos) << r.output;
  const std::string out = r.output.substr(at + 15, r.output.find('\n', at) - at - 15);
  EXPECT_NE(out.rfind("-2"), std::string::npos) << out;
  EXPECT_EQ(summary_of(dir_ + "/" + out)["status"], "finished");
}

// Issue 11 item 6 and issue 10 item 10: a resume's --set is applied (and logged) or refused,
// never written and then rejected.
TEST_F(Cli, AResumeOverrideIsAppliedAndLoggedOrRefusedBeforeAnythingIsWritten) {
  const std::string config = write("tiny.yaml", kTinyConfig);
  const std::string out = dir_ + "/run";
  ASSERT_EQ(run("train " + config + " --quiet --set total_steps=512 --set agent.anneal_lr=false --out " + out).code, 0);
  const std::string saved = read_file(out + "/config.yaml");
  Result r = run("train --resume --quiet --set 'agent.hidden_sizes=[32]' --set total_steps=768 --out " + out);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--set agent.hidden_sizes: a resumed run cannot change it"), std::string::npos) << r.output;
  r = run("train --resume --quiet --set env.id=Hopper-v5 --out " + out);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("InvertedPendulum-v5); --resume may change total_steps"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(out + "/config.yaml"), saved);
  // A hyperparameter: the next update uses it, the store records the change, config.yaml holds it.
  r = run("train --resume --set total_steps=768 --set agent.learning_rate=0.001 --set eval.episodes=0 --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("agent.learning_rate: 0.0003 -> 0.001"), std::string::npos) << r.output;
  SqliteStore store(out + "/store.sqlite");
  const auto lr = store.metrics(0, "charts/learning_rate");
  ASSERT_EQ(lr.size(), 3u);
  EXPECT_DOUBLE_EQ(lr[1].value, 3e-4);
  EXPECT_DOUBLE_EQ(lr[2].value, 1e-3);
  EXPECT_EQ(store.count_events("override"), 1);
  EXPECT_NE(read_file(out + "/config.yaml").find("learning_rate: 0.001"), std::string::npos);
}

// Issue 11 item 7: a broken `latest` falls back to the newest complete checkpoint (and says so);
// none is a refusal; a store that lost its rows is refused.
TEST_F(Cli, ResumeFallsBackToTheNewestCompleteCheckpointOrRefuses) {
  const std::string config = write("tiny.yaml", kTinyConfig);
  const std::string out = dir_ + "/run";
  ASSERT_EQ(run("train " + config + " --quiet --set total_steps=512 --set checkpoint.interval=256 "
                "--set checkpoint.keep=5 --set eval.episodes=0 --out " + out).code, 0);
  std::ofstream(out + "/checkpoints/latest") << "garbage\n";
  Result r = run("train --resume --quiet --set total_steps=768 --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("does not name a checkpoint; using the newest complete checkpoint, step_000000000512"),
            std::string::npos) << r.output;
  std::ofstream(out + "/checkpoints/latest") << "step_000000099999\n";
  r = run("train --resume --quiet --set total_steps=1024 --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("which does not exist; using the newest complete checkpoint, step_000000000768"),
            std::string::npos) << r.output;
  EXPECT_EQ(steps_of(out, "losses/value_loss"), (std::vector<std::int64_t>{256, 512, 768, 1024}));
  // No checkpoint at all: refused, not restarted from step 0.
  for (const auto& entry : fs::directory_iterator(out + "/checkpoints")) fs::remove_all(entry.path());
  r = run("train --resume --quiet --set total_steps=1280 --out " + out);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("no complete checkpoint to resume from"), std::string::npos) << r.output;

  // A store emptied under a run with checkpoints: refused.
  const std::string other = dir_ + "/other";
  ASSERT_EQ(run("train " + config + " --quiet --set total_steps=256 --set eval.episodes=0 --out " + other).code, 0);
  for (const char* f : {"/store.sqlite-wal", "/store.sqlite-shm"}) fs::remove(other + f);
  std::ofstream(other + "/store.sqlite", std::ios::trunc).flush();
  r = run("train --resume --quiet --set total_steps=512 --out " + other);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("store.sqlite: holds metrics up to step -1, but the checkpoint is at step 256"),
            std::string::npos) << r.output;
}

// Issue 11 item 8: --parallel is saved with the experiment and a resume says what it uses.
TEST_F(Cli, TuneSavesParallelAndAResumeUsesIt) {
  const std::string config = write("b.yaml", "seed: 1\ntask: branin\ntune:\n  algorithm: random\n  num_trials: 4\n"
                                             "  max_budget: 1\nsearch_space:\n  x1: {type: float, low: -5, high: 10}\n");
  ASSERT_EQ(run("tune " + config + " --quiet --parallel 3 --out " + dir_ + "/t").code, 0);
  EXPECT_NE(read_file(dir_ + "/t/config.yaml").find("parallel: 3"), std::string::npos);
  EXPECT_EQ(summary_of(dir_ + "/t")["parallel"], 3);
  Result r = run("tune --resume --out " + dir_ + "/t");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming with parallel 3, as saved with the experiment"), std::string::npos) << r.output;
  r = run("tune --resume --parallel 2 --out " + dir_ + "/t");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming with parallel 2 from --parallel (the experiment was saved with 3"), std::string::npos)
      << r.output;
}

// Issue 11 item 15: a relative path in a config file is relative to that file.
TEST_F(Cli, RelativePathsAreRelativeToTheConfigFile) {
  write("sub/sched.yaml", "unit: steps\nhyperparameters:\n  learning_rate:\n    interpolation: hold\n"
                          "    points: [[0, 0.001], [256, 0.002]]\n");
  const std::string config = write("sub/tiny.yaml", std::string(kTinyConfig) + "replay:\n  file: sched.yaml\n");
  Result r = run_in(dir_, "train sub/tiny.yaml --quiet --set total_steps=512 --set agent.anneal_lr=false "
                          "--set eval.episodes=0 --out run");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(read_file(dir_ + "/run/config.yaml").find(dir_ + "/sub/sched.yaml"), std::string::npos);
  {
    SqliteStore store(dir_ + "/run/store.sqlite");
    const auto lr = store.metrics(0, "charts/learning_rate");
    ASSERT_EQ(lr.size(), 2u);
    EXPECT_DOUBLE_EQ(lr[1].value, 0.002);
  }
  // env.model_path follows the same rule: the message names the file beside the config.
  r = run("train " + write("sub/m.yaml", "env:\n  id: Hopper-v5\n  model_path: models/none.xml\n") + " --out " + dir_ + "/m");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(dir_ + "/sub/models/none.xml"), std::string::npos) << r.output;
}

// Issue 11 item 14: the fit progress line names its metric.
TEST_F(Cli, TheFitProgressLineShowsValidationAccuracy) {
  const Result r = run("fit " + write("d.yaml", "data:\n  name: digits\nmodel:\n  widths: [8]\ntrain:\n  epochs: 1\n") +
                       " --out " + dir_ + "/f");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("val accuracy 0."), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(" return "), std::string::npos) << r.output;
}

// Issue 11 item 13: --out on a read-only file system. Needs a read-only mount; where this
// process may not mount one the case cannot be made and is skipped.
TEST_F(Cli, OutOnAReadOnlyFileSystemIsAUserError) {
  const std::string mount_point = dir_ + "/ro";
  fs::create_directories(mount_point);
  const std::string config = write("tiny.yaml", kTinyConfig);
  const Unmount guard{mount_point, ::mount("tmpfs", mount_point.c_str(), "tmpfs", MS_RDONLY, "size=64k") == 0};
  if (!guard.mounted) GTEST_SKIP() << "cannot mount a read-only tmpfs here";
  const Result r = run("train " + config + " --out " + mount_point + "/run");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(mount_point + "/run: cannot create the run directory: Read-only file system"), std::string::npos)
      << r.output;
}

// Issue 11 item 2: a full disk mid-run is an exit-2 error naming the path and the cause; the
// last complete checkpoint loads, the store opens, and after space is freed the run continues.
// The disk: a 3 MB tmpfs filled while the run trains, where this process may mount one;
// otherwise a file-size limit (ulimit -f, EFBIG) makes the writes fail the same way.
TEST_F(Cli, AFullDiskStopsTheRunCleanlyAndAResumeContinues) {
  const std::string config = write("tiny.yaml", kTinyConfig);
  const std::string disk = dir_ + "/disk";
  fs::create_directories(disk);
  const Unmount guard{disk, ::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=3m") == 0};
  const bool tmpfs = guard.mounted;
  const std::string out = disk + "/run";
  ASSERT_EQ(run("train " + config + " --quiet --set total_steps=512 --set checkpoint.interval=256 --set eval.episodes=0 --out " +
                out).code, 0);
  Result r;
  if (tmpfs) {
    const pid_t pid = start({"train", "--resume", "--quiet", "--set", "total_steps=2000000", "--set", "checkpoint.interval=256",
                             "--out", out});
    for (int i = 0; i < 200 && read_file(out + "/checkpoints/latest") < "step_000000000768"; ++i) ::usleep(50000);
    {
      std::ofstream filler(disk + "/filler", std::ios::binary);
      const std::string block(1 << 16, 'x');
      while (filler.write(block.data(), block.size())) {
      }
    }
    int status = 0;
    bool ended = false;
    for (int i = 0; i < 600 && !ended; ++i) {
      ended = ::waitpid(pid, &status, WNOHANG) == pid;
      if (!ended) ::usleep(50000);
    }
    if (!ended) kill_and_wait(pid);
    ASSERT_TRUE(ended && WIFEXITED(status)) << "the run did not stop on a full disk";
    r.code = WEXITSTATUS(status);
  } else {
    r = shell("", "sh -c \"trap '' XFSZ; ulimit -f 40; exec " + std::string(GRAYBOX_BIN) + " train --resume --quiet "
                  "--set total_steps=4096 --set checkpoint.interval=256 --out " + out + "\"");
  }
  EXPECT_EQ(r.code, 2) << r.output;
  // With space again (SQLite needs some to open a store): what it left opens and loads.
  fs::remove(disk + "/filler");
  EXPECT_FALSE(steps_of(out, "losses/value_loss").empty());
  const Result e = run("eval " + out + " --episodes 1 --json");
  EXPECT_EQ(e.code, 0) << e.output;
  // The run continues from its last complete checkpoint, wherever the disk stopped it.
  const long long reached = std::stoll(read_file(out + "/checkpoints/latest").substr(5));
  r = run("train --resume --quiet --set total_steps=" + std::to_string(reached + 512) +
          " --set checkpoint.interval=256 --set eval.episodes=0 --out " + out);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(summary_of(out)["status"], "finished");
  EXPECT_EQ(summary_of(out)["total_steps"], reached + 512);
  const auto steps = steps_of(out, "losses/value_loss");
  EXPECT_EQ(std::set<std::int64_t>(steps.begin(), steps.end()).size(), steps.size()) << "duplicate rows";
  EXPECT_EQ(steps.back(), reached + 512);
}

// Issue 11 item 2: a checkpoint whose write fails is an exit-2 error naming the file and the
// cause, never LibTorch's abort (exit 134 and a c10 trace before the fix), and it leaves no
// partial checkpoint. The file-size limit (1 MB; dash counts 512-byte blocks) lets the store's
// small writes through and stops the networks' archive (a few MB at hidden sizes of 512).
TEST_F(Cli, AFailedCheckpointWriteIsExit2NeverAnAbort) {
  write("tiny.yaml", kTinyConfig);
  write("fit.yaml", "seed: 1\ndata:\n  name: teacher_student\n  teacher:\n    examples: 600\nmodel:\n  widths: [512, 512]\n"
                    "train:\n  epochs: 1\n  batch_size: 32\n");
  for (const std::string command : {"train tiny.yaml --set 'agent.hidden_sizes=[512,512]' --set eval.episodes=0 --out train_run",
                                    "fit fit.yaml --out fit_run"}) {
    const Result r = shell(dir_, "sh -c \"trap '' XFSZ; ulimit -f 2000; exec " + std::string(GRAYBOX_BIN) + " " + command +
                                     " --quiet\"");
    EXPECT_EQ(r.code, 2) << command << "\n" << r.output;
    EXPECT_NE(r.output.find("_run/checkpoints/"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("File too large"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("frame #"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  }
  for (const char* run_dir : {"/train_run", "/fit_run"}) {
    for (const auto& entry : fs::recursive_directory_iterator(dir_ + run_dir + "/checkpoints")) {
      const std::string name = entry.path().filename().string();
      EXPECT_EQ(name.find(".tmp"), std::string::npos) << "left behind: " << entry.path();
    }
  }
}

// Issue 10: tune shows a progress line while a batch trains; Ctrl-C stops after the trials in
// flight at their next budget unit, commits and prints the --resume command; a second Ctrl-C exits at once.
TEST_F(Cli, TuneShowsProgressAndStopsOnCtrlC) {
  write("base.yaml", kTinyConfig);
  // Trials of 153600 env steps: several seconds each, so the progress line (every 5 s off a
  // terminal) shows while the first one trains.
  const std::string config = write("t.yaml", "seed: 1\ntask: rl\nbase_config: base.yaml\ntune:\n  algorithm: random\n"
                                             "  num_trials: 3\n  max_budget: 600\n  budget_unit: 256\n"
                                             "search_space:\n  agent.gamma: {type: float, low: 0.9, high: 0.99}\n");
  // Runs the experiment, sends `signals` Ctrl-Cs once the first progress line is out; returns
  // the exit code, the output and the seconds from the first signal to the end.
  const auto stopped = [&](const std::string& cfg, const std::string& out, int signals, const std::string& wait_for) {
    const std::string log = out + ".log";
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (!std::freopen(log.c_str(), "w", stderr)) ::_exit(126);
      ::execl(GRAYBOX_BIN, GRAYBOX_BIN, "tune", cfg.c_str(), "--out", out.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 600 && (!fs::exists(log) || read_file(log).find(wait_for) == std::string::npos); ++i) {
      ::usleep(50000);
    }
    if (signals > 1) ::usleep(300000);  // well inside the first trial's only budget unit
    const auto sent = std::chrono::steady_clock::now();
    for (int i = 0; i < signals; ++i) {
      ::kill(pid, SIGINT);
      ::usleep(100000);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
    return std::make_tuple(WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(log), seconds);
  };
  // One Ctrl-C in the first trial: it stops at its next budget unit (256 env steps) with its
  // checkpoint, nothing of the batch is reported, and the experiment stops.
  const auto [code, text, seconds] = stopped(config, dir_ + "/once", 1, "/3 done, ");
  EXPECT_EQ(code, 130) << text;
  EXPECT_NE(text.find(" results, best final_return "), std::string::npos) << text;
  EXPECT_NE(text.find(" units, 00:0"), std::string::npos) << text;
  EXPECT_NE(text.find("continue with: graybox tune --resume --out " + dir_ + "/once"), std::string::npos) << text;
  const auto summary = summary_of(dir_ + "/once");
  EXPECT_EQ(summary["status"], "stopped");
  // Trials run one at a time: those finished before the signal are reported, the one it stopped
  // keeps its checkpoint.
  const int results = summary["results"].get<int>();
  EXPECT_LT(results, 3);
  EXPECT_TRUE(fs::exists(dir_ + "/once/trials/" + std::to_string(results) + "/done")) << "the stopped trial keeps its checkpoint";
  EXPECT_LT(seconds, 5.0) << "a stop takes effect at the next unit, not at the end of the trial";
  // Twice: out at once, leaving a store that opens. A trial of one budget unit of 153600 env
  // steps cannot stop before its end (seconds), so the second signal surely finds it training;
  // with 256-step units the first signal alone may end the run before the second arrives.
  const std::string whole = write("whole.yaml", "seed: 1\ntask: rl\nbase_config: base.yaml\ntune:\n  algorithm: random\n"
                                                "  num_trials: 3\n  max_budget: 1\n  budget_unit: 153600\n"
                                                "search_space:\n  agent.gamma: {type: float, low: 0.9, high: 0.99}\n");
  const auto [code2, text2, seconds2] = stopped(whole, dir_ + "/twice", 2, "tuning rl with");
  EXPECT_EQ(code2, 130) << text2;
  EXPECT_NE(text2.find("stopped at once; continue with: graybox tune --resume --out " + dir_ + "/twice"),
            std::string::npos) << text2;
  EXPECT_LT(seconds2, 1.5);
  EXPECT_NO_THROW(SqliteStore(dir_ + "/twice/store.sqlite").trials());
  (void)seconds;
}

// A failed write's message (the run above is a background process whose words are not
// captured): a file-size limit (EFBIG) fails the store or checkpoint writes of a short run.
TEST_F(Cli, AFailedWriteNamesThePathAndTheCause) {
  write("tiny.yaml", kTinyConfig);
  const Result r = shell(dir_, "sh -c \"trap '' XFSZ; ulimit -f 40; exec " + std::string(GRAYBOX_BIN) +
                                   " train tiny.yaml --quiet --set eval.episodes=0 --out run\"");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("error: run/"), std::string::npos) << r.output;
  EXPECT_TRUE(r.output.find("File too large") != std::string::npos || r.output.find("disk is full") != std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("frame #"), std::string::npos) << r.output;
}

}  // namespace
