// What only the SQLite backend has: a file that a killed writer or a full disk leaves behind,
// a corrupt file, rows another tool wrote, and files of the older schema.
#include "store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>

#include <sys/resource.h>

#include "core/error.hpp"
#include "tests/support/processes.hpp"

namespace fs = std::filesystem;

namespace graybox::store {
namespace {

using core::UserError;
using testing::exit_code_in_child;
using testing::fresh_dir;

// A store holding one committed row, x = 1 at step 1.
std::string store_with_one_row(const std::string& name) {
  const std::string path = fresh_dir("sqlite_" + name) + "/s.sqlite";
  SqliteStore store(path);
  store.add_metric(0, 1, "x", 1.0);
  store.commit();
  return path;
}

void run_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int code = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(code, SQLITE_OK) << message;
}

TEST(SqliteStore, UncommittedRowsOfAKilledWriterAreAbsentButTheFileOpens) {
  const std::string path = store_with_one_row("killed");
  // A child process writes a committed row and a pending one, then dies without cleanup.
  exit_code_in_child([&] {
    auto* store = new SqliteStore(path);  // never destroyed: the pending row is not committed
    store->add_metric(0, 2, "x", 2.0);
    store->commit();
    store->add_metric(0, 3, "x", 3.0);
    return 0;
  });
  SqliteStore store(path);
  const auto rows = store.metrics(0, "x");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].step, 2);
}

TEST(SqliteStore, ACorruptFileIsAUserError) {
  const std::string dir = fresh_dir("sqlite_corrupt");
  {
    std::ofstream out(dir + "/bad.sqlite");
    out << "this is not a database, just some text that is long enough to look like a header....";
  }
  EXPECT_THROW(SqliteStore(dir + "/bad.sqlite"), UserError);
}

// Issue 11 item 2: a write the file system refuses is a UserError naming the store, and the
// store still opens with every committed row. The limit on file size (RLIMIT_FSIZE, with
// SIGXFSZ ignored) stands in for a full disk: the write fails the same way, with EFBIG.
TEST(SqliteStore, AFailedWriteNamesTheStoreAndKeepsWhatWasCommitted) {
  const std::string path = store_with_one_row("full");
  const int code = exit_code_in_child([&] {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{static_cast<rlim_t>(fs::file_size(path)), RLIM_INFINITY};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      SqliteStore store(path);
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
  SqliteStore store(path);
  EXPECT_EQ(store.metrics(0, "x").size(), 1u);
}

// NULL text columns (a row inserted by hand, by another tool or an older version) read as
// empty text instead of crashing on a null pointer.
TEST(SqliteStore, NullTextColumnsReadAsEmpty) {
  const std::string path = fresh_dir("sqlite_null") + "/store.sqlite";
  { SqliteStore store(path); }  // creates the schema
  run_sql(path, "INSERT INTO trials (trial, config, budget, loss, score, status) VALUES (1, NULL, 3, NULL, NULL, NULL)");
  SqliteStore store(path);
  const auto rows = store.trials();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].config, "");
  EXPECT_EQ(rows[0].status, "");
  EXPECT_TRUE(std::isnan(rows[0].loss));
}

// Issue 15 item 1: a store.sqlite that graybox 0.1 wrote (schema 1: no study column, no
// version) opens; its rows are the study "default"; the migration ran once.
TEST(SqliteStore, AFileOfTheFirstSchemaOpensAsTheDefaultStudy) {
  const std::string path = fresh_dir("sqlite_v1") + "/store.sqlite";
  fs::copy_file(GRAYBOX_SOURCE_DIR "/tests/store/data/tune_v1.sqlite", path);
  {
    SqliteStore store(path);
    EXPECT_EQ(store.trials().size(), 6u);
    EXPECT_EQ(store.metrics(-1, "tune/score").size(), 6u);
    EXPECT_FALSE(store.meta("controller_state").empty());
    EXPECT_EQ(store.count_events("decision"), 6);
    store.add_metric(0, 2, "x", 1.0);
    store.commit();
  }
  SqliteStore again(path);  // opens the migrated file without migrating it again
  EXPECT_EQ(again.metrics(0, "x").size(), 1u);
  SqliteStore other(path, "other");
  EXPECT_TRUE(other.trials().empty());
}

TEST(SqliteStore, AFileOfANewerSchemaIsRefused) {
  const std::string path = fresh_dir("sqlite_newer") + "/store.sqlite";
  { SqliteStore store(path); }
  run_sql(path, "PRAGMA user_version = " + std::to_string(SqliteStore::kSchemaVersion + 1));
  try {
    SqliteStore store(path);
    FAIL() << "opened a store of a newer schema";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this graybox"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace graybox::store
