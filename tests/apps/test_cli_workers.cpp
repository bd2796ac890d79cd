// Issue 15 item 3: `graybox worker` processes on a study in a real (throwaway) PostgreSQL, with
// the faults a cluster has: a worker killed mid-trial (its job is reclaimed, the attempt count
// goes up), a worker stopped past its lease and continued (its late write is refused), the
// server restarted mid-run (the workers reconnect), the driver killed and started again.
// Afterwards every trial finished exactly once, no result was written twice and every committed
// checkpoint exists. Every wait has a deadline.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/files.hpp"
#include "tests/apps/cli.hpp"
#include "tests/support/throwaway_postgres.hpp"

namespace graybox_cli_test {
namespace {

using Clock = std::chrono::steady_clock;

// Waits up to `seconds` for `done`; false if it never came.
bool wait_for(const std::function<bool()>& done, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// Starts `graybox ARGS` in the background, its output into `log`.
pid_t spawn(const std::string& args, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", ("exec " + std::string(GRAYBOX_BIN) + " " + args + " > " + log + " 2>&1").c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// The exit code of `pid` once it ends within `seconds` (-1 if killed by a signal, -2 if it did not end: killed now).
int wait_exit(pid_t pid, double seconds) {
  int status = 0;
  if (!wait_for([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, seconds)) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -2;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class Workers : public Cli {
 protected:
  // One value (the first column of the first row) of a query, "" if none.
  std::string sql(const std::string& query) {
    const Result r = shell("", "/usr/lib/postgresql/15/bin/psql -At -h 127.0.0.1 -p " + std::to_string(server_.port()) +
                                   " -U postgres -d graybox -c \"" + query + "\"");
    std::string out = r.output;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out.substr(0, out.find('\n'));
  }
  int sql_int(const std::string& query) {
    const std::string value = sql(query);
    return value.empty() ? -1 : std::stoi(value);
  }
  // The pid of the worker holding a running job other than those in `not_of`, or 0.
  pid_t running_worker(pid_t not_of) {
    const std::string name = sql("SELECT worker FROM graybox_jobs WHERE state = 'running' AND worker NOT LIKE '%:" +
                                 std::to_string(not_of) + "' ORDER BY id LIMIT 1");
    return name.empty() ? 0 : static_cast<pid_t>(std::stol(name.substr(name.rfind(':') + 1)));
  }
  graybox::testing::ThrowawayPostgres server_;
};

TEST_F(Workers, FourWorkersSurviveAKillAStallAServerRestartAndADriverRestart) {
  const std::string config = write("study.yaml",
      "seed: 4\ntask: branin_timed\ntune:\n  algorithm: random\n  num_trials: 24\n  max_budget: 25\n"
      "search_space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n");
  const std::string storage = "--storage " + server_.url() + " --study s";
  const std::string out = dir_ + "/study";
  Result r = run("tune " + config + " --out " + out + " " + storage + " --workers-only --quiet");
  ASSERT_EQ(r.code, 0) << r.output;

  std::vector<pid_t> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(spawn("worker " + storage + " --lease 1.5", dir_ + "/w" + std::to_string(i) + ".log"));

  // SIGKILL a worker in the middle of a trial.
  pid_t killed = 0;
  ASSERT_TRUE(wait_for([&] { return (killed = running_worker(0)) != 0; }, 60)) << "no job started";
  ::kill(killed, SIGKILL);
  const std::string killed_job = sql("SELECT id FROM graybox_jobs WHERE state = 'running' AND worker LIKE '%:" + std::to_string(killed) + "'");
  ASSERT_FALSE(killed_job.empty());

  // SIGSTOP another past its lease; SIGCONT once another worker took its job over.
  pid_t stalled = 0;
  ASSERT_TRUE(wait_for([&] { return (stalled = running_worker(killed)) != 0; }, 60)) << "no second job started";
  ::kill(stalled, SIGSTOP);
  const std::string stalled_job =
      sql("SELECT id FROM graybox_jobs WHERE state = 'running' AND worker LIKE '%:" + std::to_string(stalled) + "' LIMIT 1");
  ASSERT_FALSE(stalled_job.empty());
  EXPECT_TRUE(wait_for([&] { return sql_int("SELECT attempt FROM graybox_jobs WHERE id = " + stalled_job) >= 2; }, 60))
      << "the stalled worker's job was not taken over";
  ::kill(stalled, SIGCONT);

  // The driver works in-process too; kill it mid-run.
  const pid_t driver = spawn("tune --resume --out " + out + " " + storage + " --lease 1.5", dir_ + "/driver.log");
  ASSERT_TRUE(wait_for([&] { return !sql("SELECT id FROM graybox_jobs WHERE worker LIKE '%:" + std::to_string(driver) + "'").empty(); }, 20))
      << "the driver took no job";
  ::kill(driver, SIGKILL);
  ::waitpid(driver, nullptr, 0);

  // Restart the server mid-run: the workers reconnect and carry on.
  const std::string done_before = sql("SELECT COUNT(*) FROM graybox_jobs WHERE state = 'done'");
  server_.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  server_.start();
  EXPECT_LT(std::stoi(done_before), 24) << "the study ended before the restart";

  // The driver again, to the end: it writes the run directory's files.
  r = run("tune --resume --out " + out + " " + storage + " --lease 1.5 --quiet");
  EXPECT_EQ(r.code, 0) << r.output;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    if (workers[i] == killed) {
      ::waitpid(killed, nullptr, 0);
      continue;
    }
    EXPECT_EQ(wait_exit(workers[i], 30), 0) << graybox::core::read_file(dir_ + "/w" + std::to_string(i) + ".log");
  }

  EXPECT_EQ(sql("SELECT COUNT(*) FROM graybox_jobs WHERE study = 's'"), "24");
  EXPECT_EQ(sql("SELECT COUNT(DISTINCT trial) FROM graybox_jobs WHERE state = 'done'"), "24");
  EXPECT_GE(sql_int("SELECT attempt FROM graybox_jobs WHERE id = " + killed_job), 2) << "the killed worker's job was not reclaimed";
  EXPECT_GE(sql_int("SELECT COUNT(*) FROM graybox_events WHERE kind = 'refused_result'"), 1) << "no late write was refused";
  EXPECT_EQ(sql("SELECT COUNT(*) FROM (SELECT trial FROM graybox_metrics WHERE name = 'tune/score' GROUP BY trial HAVING COUNT(*) > 1) d"), "0");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM graybox_metrics WHERE name = 'tune/score'"), "24");
  r = shell("", "/usr/lib/postgresql/15/bin/psql -At -h 127.0.0.1 -p " + std::to_string(server_.port()) +
                    " -U postgres -d graybox -c \"SELECT checkpoint FROM graybox_jobs WHERE state = 'done'\"");
  int checkpoints = 0;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(fs::exists(out + "/" + line + "/state.json")) << line;
    ++checkpoints;
  }
  EXPECT_EQ(checkpoints, 24);
  const auto summary = nlohmann::json::parse(graybox::core::read_file(out + "/summary.json"));
  EXPECT_EQ(summary.at("results").get<int>(), 24);
}

// Each worker's turn is one transaction: the previous job's result, the controller's reaction and
// the next job's decision commit together, and each decision is appended to the log once.
TEST_F(Workers, TwoWorkersAppendEachDecisionOnceInOneTransactionPerJob) {
  const std::string config = write("study.yaml",
      "seed: 5\ntask: branin\ntune:\n  algorithm: random\n  num_trials: 30\n  max_budget: 1\n"
      "search_space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n");
  const std::string storage = "--storage " + server_.url() + " --study s";
  Result r = run("tune " + config + " --out " + dir_ + "/study " + storage + " --workers-only --quiet");
  ASSERT_EQ(r.code, 0) << r.output;
  std::vector<pid_t> workers;
  for (int i = 0; i < 2; ++i) workers.push_back(spawn("worker " + storage, dir_ + "/w" + std::to_string(i) + ".log"));
  for (std::size_t i = 0; i < workers.size(); ++i) {
    EXPECT_EQ(wait_exit(workers[i], 60), 0) << graybox::core::read_file(dir_ + "/w" + std::to_string(i) + ".log");
  }
  EXPECT_EQ(sql("SELECT COUNT(*) FROM graybox_jobs WHERE state = 'done'"), "30");
  // 30 suggestions, 30 results and one done, numbered 1..61 without a gap.
  EXPECT_EQ(sql("SELECT COUNT(*) FROM graybox_decisions WHERE decision::json->'job' IS NOT NULL"), "30");
  EXPECT_EQ(sql("SELECT COUNT(DISTINCT decision::json->'job'->>'trial') FROM graybox_decisions"), "30");
  EXPECT_EQ(sql("SELECT COUNT(DISTINCT decision::json->'result'->>'trial') FROM graybox_decisions"), "30");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM graybox_decisions WHERE decision::json->'done' IS NOT NULL"), "1");
  EXPECT_EQ(sql("SELECT COUNT(*) || ' ' || MIN(seq) || ' ' || MAX(seq) FROM graybox_decisions"), "61 1 61");
  // A job's result commits with its reaction: the job's row and the log's result entry have one
  // transaction id; and a turn holds at most a result and the next decision (each worker's
  // first turn and the last turns hold one entry).
  EXPECT_EQ(sql("SELECT COUNT(*) FROM graybox_jobs j JOIN graybox_decisions d ON d.xmin::TEXT = j.xmin::TEXT"
                " AND (d.decision::json->'result'->>'trial')::BIGINT = j.trial WHERE j.state = 'done'"),
            "30");
  EXPECT_LE(sql_int("SELECT COUNT(DISTINCT xmin::TEXT) FROM graybox_decisions"), 30 + 3);
  EXPECT_EQ(sql("SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM graybox_decisions GROUP BY xmin::TEXT) t"), "2");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM graybox_metrics WHERE name = 'tune/score'"), "30");
}

// PBT across workers: a synchronous population trained by four `graybox worker` processes on
// PostgreSQL, one of them SIGKILLed mid-interval and one SIGSTOPped past its lease, ends where
// one process on SQLite ends with the same seed: the same scores, the same history, the same
// lineage. Asynchronous PBT (timing-dependent) is refused across workers.
TEST_F(Workers, APbtStudyOfFourWorkersEndsWhereOneProcessOnSqliteEndsThroughAKillAndAStall) {
  const std::string config = write("pbt.yaml",
      "seed: 3\ntask: branin_timed\ntune:\n  algorithm: pbt\n  population: 4\n  perturbation_interval: 10\n"
      "  max_budget: 50\nsearch_space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n");
  Result r = run("tune " + config + " --quiet --out " + dir_ + "/one");
  ASSERT_EQ(r.code, 0) << r.output;

  const std::string storage = "--storage " + server_.url() + " --study pbt";
  const std::string out = dir_ + "/study";
  r = run("tune " + config + " --out " + out + " " + storage + " --workers-only --quiet");
  ASSERT_EQ(r.code, 0) << r.output;
  std::vector<pid_t> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(spawn("worker " + storage + " --lease 1.5", dir_ + "/w" + std::to_string(i) + ".log"));
  // SIGKILL a worker in the middle of an interval (its job is claimed again once its lease is out).
  pid_t killed = 0;
  ASSERT_TRUE(wait_for([&] { return (killed = running_worker(0)) != 0; }, 60)) << "no job started";
  ::kill(killed, SIGKILL);
  const std::string killed_job = sql("SELECT id FROM graybox_jobs WHERE state = 'running' AND worker LIKE '%:" + std::to_string(killed) + "'");
  // SIGSTOP another past its lease; SIGCONT once another worker took its job over.
  pid_t stalled = 0;
  ASSERT_TRUE(wait_for([&] { return (stalled = running_worker(killed)) != 0; }, 60)) << "no second job started";
  ::kill(stalled, SIGSTOP);
  const std::string stalled_job =
      sql("SELECT id FROM graybox_jobs WHERE state = 'running' AND worker LIKE '%:" + std::to_string(stalled) + "' LIMIT 1");
  ASSERT_FALSE(stalled_job.empty());
  const int stalled_attempt = sql_int("SELECT attempt FROM graybox_jobs WHERE id = " + stalled_job);
  EXPECT_TRUE(wait_for([&] { return sql_int("SELECT attempt FROM graybox_jobs WHERE id = " + stalled_job) > stalled_attempt; }, 60))
      << "the stalled worker's job was not taken over";
  ::kill(stalled, SIGCONT);
  for (std::size_t i = 0; i < workers.size(); ++i) {
    if (workers[i] == killed) {
      ::waitpid(killed, nullptr, 0);
      continue;
    }
    EXPECT_EQ(wait_exit(workers[i], 120), 0) << graybox::core::read_file(dir_ + "/w" + std::to_string(i) + ".log");
  }
  if (!killed_job.empty()) {
    EXPECT_GE(sql_int("SELECT attempt FROM graybox_jobs WHERE id = " + killed_job), 2) << "the killed worker's job was not reclaimed";
  }
  r = run("tune --resume --out " + out + " " + storage + " --quiet");
  ASSERT_EQ(r.code, 0) << r.output;

  const auto one = nlohmann::json::parse(graybox::core::read_file(dir_ + "/one/summary.json"));
  const auto study = nlohmann::json::parse(graybox::core::read_file(out + "/summary.json"));
  EXPECT_EQ(one.at("member_scores"), study.at("member_scores"));
  EXPECT_EQ(one.at("exploits"), study.at("exploits"));
  EXPECT_GT(study.at("exploits").get<int>(), 0);
  EXPECT_EQ(one.at("total_budget"), study.at("total_budget"));
  EXPECT_EQ(graybox::core::read_file(dir_ + "/one/history.csv"), graybox::core::read_file(out + "/history.csv"));
  // Jobs spread over the workers: one per member and round, each committed once.
  EXPECT_EQ(sql("SELECT COUNT(*) FROM graybox_jobs WHERE study = 'pbt' AND state = 'done'"), "20");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM graybox_jobs WHERE study = 'pbt'"), "20");
  EXPECT_GE(sql_int("SELECT COUNT(*) FROM graybox_events WHERE kind = 'refused_result' AND study = 'pbt'"), 1) << "no late write was refused";
  EXPECT_EQ(sql("SELECT COUNT(*) FROM (SELECT trial, budget FROM graybox_jobs WHERE study = 'pbt' GROUP BY trial, budget HAVING COUNT(*) > 1) d"), "0");
  EXPECT_GE(sql_int("SELECT COUNT(DISTINCT worker) FROM graybox_jobs WHERE study = 'pbt'"), 2);
  const auto lineage = nlohmann::json::parse(graybox::core::read_file(out + "/lineage.json"));
  for (const auto& e : lineage.at("events")) {
    if (e.at("kind") == "exploit") {
      EXPECT_TRUE(fs::exists(out + "/" + e.at("checkpoint").get<std::string>() + "/state.json")) << e;
    }
  }

  r = run("tune " + config + " --out " + dir_ + "/async --storage " + server_.url() + " --study pbt_async --workers-only --set tune.synchronous=false");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("tune.synchronous"), std::string::npos) << r.output;
}

// `graybox bench --storage URL --study NAME`: the benchmark's plan and cells live in the shared
// store (the directory keeps the cells' runs and storage.json); --resume and report find it there.
TEST_F(Workers, ABenchmarkKeepsItsPlanAndCellsInAPostgresStudy) {
  write("digits.yaml",
        "seed: 1\ndata:\n  name: digits\n  limit: 160\nmodel:\n  type: mlp\n  widths: [16]\noptimizer:\n  name: sgd\n"
        "  lr: 0.05\n  momentum: 0.9\ntrain:\n  epochs: 2\n  batch_size: 32\n");
  const std::string bench = write("bench.yaml",
      "seeds: 2\nbaseline: constant\nscore: eval\nparallel: 2\nbootstrap:\n  replicates: 200\ntasks:\n  digits: {config: digits.yaml}\n"
      "methods:\n  constant: {command: fit, set: [schedule.type=constant]}\n  cosine: {command: fit, set: [schedule.type=cosine]}\n");
  const std::string out = dir_ + "/b";
  const std::string storage = "--storage " + server_.url() + " --study b1";
  Result r = run("bench " + bench + " --out " + out + " " + storage + " --quiet");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(fs::exists(out + "/storage.json"));
  EXPECT_FALSE(fs::exists(out + "/store.sqlite"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM graybox_trials WHERE study = 'b1' AND status = 'done'"), "4");
  EXPECT_NE(r.output.find("cosine"), std::string::npos) << r.output;

  r = run("bench --resume --out " + out + " --quiet");  // nothing left: every cell is kept
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(sql("SELECT COUNT(*) FROM graybox_trials WHERE study = 'b1'"), "4");
  r = run("report " + out);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(fs::exists(out + "/report/final.png"));

  r = run("bench " + bench + " --out " + dir_ + "/b2 " + storage + " --quiet");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("already holds a benchmark"), std::string::npos) << r.output;
  r = run("bench --resume --out " + out + " --storage " + server_.url() + " --study other --quiet");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("keeps its benchmark in"), std::string::npos) << r.output;
}

// A worker that joins a TPE study late starts from the controller's latest snapshot in the store
// (not the whole log) and keeps deciding what the others replay and accept: every worker ends
// with exit 0 (a controller that decided otherwise than the log stops with an error).
TEST_F(Workers, AWorkerJoiningLateStartsFromASnapshotAndAgreesWithTheLog) {
  const std::string config = write("tpe.yaml",
      "seed: 6\ntask: branin_timed\ntune:\n  algorithm: tpe\n  num_trials: 150\n  max_budget: 1\n"
      "search_space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n");
  const std::string storage = "--storage " + server_.url() + " --study tpe";
  Result r = run("tune " + config + " --out " + dir_ + "/tpe " + storage + " --workers-only --quiet");
  ASSERT_EQ(r.code, 0) << r.output;
  const pid_t early = spawn("worker " + storage, dir_ + "/early.log");
  ASSERT_TRUE(wait_for([&] { return sql_int("SELECT COUNT(*) FROM graybox_snapshots WHERE study = 'tpe'") >= 1; }, 60))
      << "no snapshot was written";
  ASSERT_LT(sql_int("SELECT COUNT(*) FROM graybox_jobs WHERE study = 'tpe' AND state = 'done'"), 150) << "the study ended too early";
  const pid_t late = spawn("worker " + storage, dir_ + "/late.log");
  EXPECT_EQ(wait_exit(early, 120), 0) << graybox::core::read_file(dir_ + "/early.log");
  EXPECT_EQ(wait_exit(late, 120), 0) << graybox::core::read_file(dir_ + "/late.log");
  EXPECT_EQ(sql("SELECT COUNT(DISTINCT trial) FROM graybox_jobs WHERE study = 'tpe' AND state = 'done'"), "150");
  EXPECT_GE(sql_int("SELECT COUNT(*) FROM graybox_jobs WHERE study = 'tpe' AND worker LIKE '%:" + std::to_string(late) + "'"), 1)
      << "the late worker ran no trial";
  EXPECT_GE(sql_int("SELECT COUNT(*) FROM graybox_snapshots WHERE study = 'tpe'"), 2);
}

// Workers share a study only through PostgreSQL; a worker of a study that is not there says so.
TEST_F(Workers, BadStorageIsExitCode2NamingIt) {
  Result r = run("worker --storage sqlite:///tmp/x.sqlite --study s");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("PostgreSQL"), std::string::npos) << r.output;
  r = run("worker --storage " + server_.url() + " --study nowhere");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("no such study"), std::string::npos) << r.output;
  r = run("worker --storage mysql://x --study s");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("not a storage URL"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace graybox_cli_test
