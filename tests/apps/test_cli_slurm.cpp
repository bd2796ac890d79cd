// Issue 15: a real single-node Slurm (slurmctld and slurmd configured in the test's directory,
// munge for their authentication) runs scripts/slurm/workers.sbatch as a job array of two
// workers against a throwaway PostgreSQL, and the study finishes. Every wait has a deadline.
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/files.hpp"
#include "tests/apps/cli.hpp"
#include "tests/support/throwaway_postgres.hpp"

namespace graybox_cli_test {
namespace {

bool wait_for_output(const std::string& command, const std::string& wanted, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  do {
    if (shell("", command).output.find(wanted) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

// The daemons this test started, stopped by their pids however the test ends.
struct Daemons {
  std::string dir;
  bool started_munge = false;
  ~Daemons() {
    for (const char* pid_file : {"/slurmd.pid", "/slurmctld.pid"}) {
      shell("", "test -f " + dir + pid_file + " && kill $(cat " + dir + pid_file + ")");
    }
    if (started_munge) shell("", "kill $(cat /run/munge/munged.pid)");
  }
};

TEST_F(Cli, SlurmJobArrayOfWorkersFinishesAStudy) {
  if (::getuid() != 0) GTEST_SKIP() << "the single-node Slurm of this test runs its daemons as root (CI does)";
  graybox::testing::ThrowawayPostgres server;
  Daemons daemons{dir_ + "/slurm"};
  fs::create_directories(daemons.dir + "/state");
  fs::create_directories(daemons.dir + "/spool");
  if (shell("", "munge -n | unmunge").code != 0) {
    ASSERT_EQ(shell("", "mkdir -p /run/munge && chown munge:munge /run/munge && su -s /bin/sh munge -c /usr/sbin/munged").code, 0);
    daemons.started_munge = true;
    ASSERT_TRUE(wait_for_output("munge -n | unmunge", "Success", 20)) << "munged did not come up";
  }
  char host[256] = "";
  ::gethostname(host, sizeof(host) - 1);
  const std::string d = daemons.dir;
  const std::string conf = write("slurm/slurm.conf",
      "ClusterName=graybox\nSlurmctldHost=" + std::string(host) + "\nSlurmUser=root\nStateSaveLocation=" + d + "/state\n"
      "SlurmdSpoolDir=" + d + "/spool\nSlurmctldPidFile=" + d + "/slurmctld.pid\nSlurmdPidFile=" + d + "/slurmd.pid\n"
      "SlurmctldLogFile=" + d + "/slurmctld.log\nSlurmdLogFile=" + d + "/slurmd.log\nProctrackType=proctrack/linuxproc\n"
      "TaskPlugin=task/none\nSelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nReturnToService=2\n"
      "NodeName=" + std::string(host) + " CPUs=" + std::to_string(std::max(2u, std::thread::hardware_concurrency())) +
      " State=UNKNOWN\nPartitionName=debug Nodes=" + std::string(host) + " Default=YES MaxTime=INFINITE State=UP\n");
  const std::string env = "SLURM_CONF=" + conf + " ";
  ASSERT_EQ(shell("", env + "slurmctld -i && " + env + "slurmd").code, 0);
  ASSERT_TRUE(wait_for_output(env + "sinfo -h -o %t", "idle", 60)) << graybox::core::read_file(d + "/slurmd.log");

  const std::string config = write("study.yaml",
      "seed: 2\ntask: branin_timed\ntune:\n  algorithm: random\n  num_trials: 12\n  max_budget: 5\n"
      "search_space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n");
  const std::string out = dir_ + "/study";
  Result r = run("tune " + config + " --out " + out + " --storage " + server.url() + " --study slurm --workers-only --quiet");
  ASSERT_EQ(r.code, 0) << r.output;
  r = shell(dir_, env + "GRAYBOX=" GRAYBOX_BIN " sbatch --array=0-1 " GRAYBOX_SOURCE_DIR "/scripts/slurm/workers.sbatch " +
                      server.url() + " slurm");
  ASSERT_EQ(r.code, 0) << r.output;
  // Both array tasks ran and left.
  EXPECT_TRUE(wait_for_output("cat " + dir_ + "/graybox-worker-*.log | grep -c 'results committed'", "2", 60))
      << shell("", "cat " + dir_ + "/graybox-worker-*.log " + d + "/slurmctld.log").output;
  r = run("tune --resume --out " + out + " --storage " + server.url() + " --study slurm --quiet");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(graybox::core::read_file(out + "/summary.json").find("\"results\": 12"), std::string::npos);
}

}  // namespace
}  // namespace graybox_cli_test
