#include "core/run_store.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/files.hpp"

namespace fs = std::filesystem;

namespace graybox::core {
namespace {

std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("graybox_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// A store holding one committed row, x = 1 at step 1.
std::string store_with_one_row(const std::string& name) {
  const std::string path = temp_dir(name) + "/s.sqlite";
  RunStore store(path);
  store.add_metric(0, 1, "x", 1.0);
  store.commit();
  return path;
}

// Runs `body` in a child process (which ends with _exit, no destructors); returns its exit code.
int exit_code_in_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(RunStore, WritesAndReadsMetrics) {
  const std::string dir = temp_dir("store");
  {
    RunStore store(dir + "/s.sqlite");
    store.add_metric(0, 100, "losses/value_loss", 0.5);
    store.add_metric(0, 100, "charts/episodic_return", 12.0);
    store.add_metric(0, 200, "losses/value_loss", std::nan(""));
    store.add_event(0, 200, "unstable_episode", "env 0");
    store.add_hyperparameter(0, 0, "learning_rate", 3e-4);
    store.commit();
    store.set_meta("graybox_version", "0.1.0");
  }
  RunStore store(dir + "/s.sqlite");
  const auto rows = store.metrics(0, "losses/value_loss");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].step, 100);
  EXPECT_DOUBLE_EQ(rows[0].value, 0.5);
  EXPECT_TRUE(std::isnan(rows[1].value));
  EXPECT_EQ(store.count_events("unstable_episode"), 1);
  EXPECT_EQ(store.meta("graybox_version"), "0.1.0");
}

TEST(RunStore, TruncateAfterDropsLaterRows) {
  const std::string dir = temp_dir("truncate");
  RunStore store(dir + "/s.sqlite");
  for (int step = 1; step <= 5; ++step) store.add_metric(0, step * 10, "x", step);
  store.commit();
  store.truncate_after(0, 30);
  EXPECT_EQ(store.metrics(0, "x").size(), 3u);
}

TEST(RunStore, UncommittedRowsOfAKilledWriterAreAbsentButTheFileOpens) {
  const std::string path = store_with_one_row("killed");
  // A child process writes a committed row and a pending one, then dies without cleanup.
  exit_code_in_child([&] {
    RunStore* store = new RunStore(path);  // never destroyed: the pending row is not committed
    store->add_metric(0, 2, "x", 2.0);
    store->commit();
    store->add_metric(0, 3, "x", 3.0);
    return 0;
  });
  RunStore store(path);
  const auto rows = store.metrics(0, "x");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].step, 2);
}

TEST(RunStore, ExportsAWideCsv) {
  const std::string dir = temp_dir("csv");
  RunStore store(dir + "/s.sqlite");
  store.add_metric(0, 10, "b", 2.0);
  store.add_metric(0, 10, "a", 1.0);
  store.add_metric(0, 20, "a", 3.0);
  store.commit();
  store.export_csv(dir + "/m.csv");
  const std::string csv = read_file(dir + "/m.csv");
  EXPECT_EQ(csv, "trial,step,a,b\n0,10,1,2\n0,20,3,\n");
}

TEST(RunStore, ACorruptFileIsAUserError) {
  const std::string dir = temp_dir("corrupt");
  {
    std::ofstream out(dir + "/bad.sqlite");
    out << "this is not a database, just some text that is long enough to look like a header....";
  }
  EXPECT_THROW(RunStore(dir + "/bad.sqlite"), UserError);
}

// Issue 11 item 4: two writers of one (trial, step, name) cannot both land; a row may only fill
// a missing value (a diverged interval trained again), and set_metric replaces on purpose.
TEST(RunStore, RefusesADuplicateMetricRow) {
  const std::string dir = temp_dir("dupes");
  RunStore store(dir + "/s.sqlite");
  store.add_metric(0, 100, "losses/value_loss", 0.5);
  store.add_metric(1, 100, "pbt/score", std::nan(""));
  store.add_metric(0, 200, "charts/episodic_return", 1.0);  // two episodes that end at one step
  store.add_metric(0, 200, "charts/episodic_return", 2.0);
  store.commit();
  store.add_metric(0, 100, "losses/value_loss", 0.7);
  EXPECT_THROW(store.commit(), std::logic_error);
  RunStore other(dir + "/s.sqlite");  // the failed transaction left nothing behind
  ASSERT_EQ(other.metrics(0, "losses/value_loss").size(), 1u);
  EXPECT_DOUBLE_EQ(other.metrics(0, "losses/value_loss")[0].value, 0.5);
  other.add_metric(1, 100, "pbt/score", 3.0);
  other.set_metric(0, 100, "losses/value_loss", 0.9);
  other.commit();
  EXPECT_DOUBLE_EQ(other.metrics(1, "pbt/score").at(0).value, 3.0);
  EXPECT_DOUBLE_EQ(other.metrics(0, "losses/value_loss").at(0).value, 0.9);
  EXPECT_EQ(other.metrics().size(), 4u);
  EXPECT_EQ(other.last_step(0), 200);
  EXPECT_EQ(other.last_step(7), -1);
}

// Issue 11 item 2: a write the file system refuses is a UserError naming the store, and the
// store still opens with every committed row. The limit on file size (RLIMIT_FSIZE, with
// SIGXFSZ ignored) stands in for a full disk: the write fails the same way, with EFBIG.
TEST(RunStore, AFailedWriteNamesTheStoreAndKeepsWhatWasCommitted) {
  const std::string path = store_with_one_row("full");
  const int code = exit_code_in_child([&] {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{static_cast<rlim_t>(fs::file_size(path)), RLIM_INFINITY};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      RunStore store(path);
      for (int i = 2; i < 5000; ++i) store.add_metric(0, i, "x", std::sin(i) * 1e6);
      store.commit();
    } catch (const UserError& e) {
      return std::string(e.what()).find(path + ": cannot write the run store") == 0 ? 0 : 4;
    } catch (...) {
      return 5;
    }
    return 3;
  });
  EXPECT_EQ(code, 0) << "3: the write passed; 4: another message; 5: another exception";
  RunStore store(path);
  EXPECT_EQ(store.metrics(0, "x").size(), 1u);
}

TEST(Files, AFailedWriteNamesThePathAndTheCause) {
  try {
    write_file_atomic("/dev/full/x", "data");
    FAIL() << "wrote into /dev/full/x";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/full/x.tmp: cannot write: "), std::string::npos) << e.what();
  }
}

// Issue 11 item 4: a second holder of a directory's lock is refused, naming the holder's pid.
TEST(Files, ADirectoryLockKeepsASecondProcessOut) {
  const std::string dir = temp_dir("lock");
  {
    DirLock lock(dir);
    const int code = exit_code_in_child([&] {
      try {
        DirLock second(dir);
      } catch (const UserError& e) {
        return std::string(e.what()).find("in use by pid " + std::to_string(::getppid())) != std::string::npos ? 0 : 4;
      }
      return 3;
    });
    EXPECT_EQ(code, 0) << "3: the second lock was granted; 4: the message lacks the pid";
  }
  EXPECT_NO_THROW(DirLock again(dir));  // released with its holder
}

TEST(Files, AtomicWriteReplacesContents) {
  const std::string dir = temp_dir("atomic");
  write_file_atomic(dir + "/f.txt", "one");
  write_file_atomic(dir + "/f.txt", "two");
  EXPECT_EQ(read_file(dir + "/f.txt"), "two");
  EXPECT_FALSE(fs::exists(dir + "/f.txt.tmp"));
  EXPECT_THROW(read_file(dir + "/missing.txt"), UserError);
}

}  // namespace
}  // namespace graybox::core
