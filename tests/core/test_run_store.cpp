#include "core/run_store.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

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
  const std::string dir = temp_dir("killed");
  const std::string path = dir + "/s.sqlite";
  {
    RunStore store(path);
    store.add_metric(0, 1, "x", 1.0);
    store.commit();
  }
  // A child process writes a committed row and a pending one, then dies without cleanup.
  const pid_t pid = ::fork();
  if (pid == 0) {
    RunStore store(path);
    store.add_metric(0, 2, "x", 2.0);
    store.commit();
    store.add_metric(0, 3, "x", 3.0);
    ::_exit(0);  // no destructors run
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
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
