// The trials table read back by RunStore::trials(), including rows another tool wrote.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/run_store.hpp"

namespace fs = std::filesystem;

namespace graybox::core {
namespace {

std::string fresh_store(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("graybox_trials_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return (dir / "store.sqlite").string();
}

TEST(RunStoreTrials, RoundTripsATrialRow) {
  const std::string path = fresh_store("roundtrip");
  {
    RunStore store(path);
    store.upsert_trial({3, "{\"x\":1}", 9, 0.5, -0.5, "ok"});
    store.commit();
  }
  RunStore store(path);
  const auto rows = store.trials();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].trial, 3);
  EXPECT_EQ(rows[0].config, "{\"x\":1}");
  EXPECT_EQ(rows[0].budget, 9);
  EXPECT_EQ(rows[0].status, "ok");
}

// NULL text columns (a row inserted by hand, by another tool or an older version) read as
// empty text instead of crashing on a null pointer.
TEST(RunStoreTrials, NullTextColumnsReadAsEmpty) {
  const std::string path = fresh_store("null");
  { RunStore store(path); }  // creates the schema
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO trials (trial, config, budget, loss, score, status) "
                             "VALUES (1, NULL, 3, NULL, NULL, NULL)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  RunStore store(path);
  const auto rows = store.trials();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].config, "");
  EXPECT_EQ(rows[0].status, "");
  EXPECT_TRUE(std::isnan(rows[0].loss));
}

}  // namespace
}  // namespace graybox::core
