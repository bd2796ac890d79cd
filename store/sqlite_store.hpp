// SqliteStore: the embedded store, one SQLite file (the run directory's store.sqlite), with the
// write-ahead log on. The schema carries its version (PRAGMA user_version) and is migrated on
// open: a file written by an older graybox opens, its rows in the study "default"; a file
// written by a newer one is refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/store.hpp"

struct sqlite3;

namespace graybox::store {

class SqliteStore final : public core::Store {
 public:
  // The schema version this build writes.
  static constexpr int kSchemaVersion = 2;

  // Opens or creates the store. Throws UserError if the file is not a usable SQLite store.
  explicit SqliteStore(const std::string& path, const std::string& study = "default");
  ~SqliteStore() override;

  void truncate_after(std::int64_t trial, std::int64_t step) override;
  void set_meta(const std::string& key, const std::string& value) override;
  std::string meta(const std::string& key) const override;
  std::vector<core::MetricRow> metrics(std::int64_t trial = -1, const std::string& name = "") const override;
  std::int64_t last_step(std::int64_t trial) const override;
  std::int64_t count_events(const std::string& kind) const override;
  std::vector<TrialRow> trials() const override;
  std::vector<std::string> state_log(const std::string& key) const override;
  std::int64_t state_log_bytes(const std::string& key) const override;

  const std::string& path() const { return location(); }

 private:
  void write(const Batch& batch) override;
  void migrate();
  void exec(const std::string& sql) const;
  [[noreturn]] void fail(const std::string& what) const;  // the current SQLite error
  sqlite3* db_ = nullptr;
};

}  // namespace graybox::store
