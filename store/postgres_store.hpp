// PostgresStore: the store on a PostgreSQL server (libpqxx), for studies that many processes on
// many machines share, and their work queue (core::WorkQueue). Its tables carry the prefix graybox_ (a database may hold other tools'
// tables too); the schema version lives in graybox_schema and is migrated on connect, under an
// advisory lock so that workers starting together migrate once.
//
// A lost connection (the server restarted, a network blip) is retried: each call reconnects
// and runs its transaction again until `reconnect_seconds` have passed (5 s for the first
// connection), then fails with a UserError naming the server. A transaction either commits whole or not at all, so a retry
// writes nothing twice (a work-queue turn whose COMMIT landed but whose acknowledgment was lost
// finds its result committed when it runs again; see core/work_queue.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/store.hpp"
#include "core/work_queue.hpp"

namespace pqxx {
class transaction_base;
}  // namespace pqxx

namespace graybox::store {

class PostgresStore final : public core::Store, public core::WorkQueue {
 public:
  static constexpr int kSchemaVersion = 4;
  // A snapshot of the controller is written after every this many entries of the log.
  static constexpr std::int64_t kSnapshotEvery = 100;
  // The statements that bring the schema from version - 1 to `version` (1 ... kSchemaVersion).
  static const char* migration(int version);

  // `uri`: a libpq connection URI (postgresql://user@host:port/db).
  PostgresStore(const std::string& uri, const std::string& study, double reconnect_seconds = 60.0);
  ~PostgresStore() override;

  void truncate_after(std::int64_t trial, std::int64_t step) override;
  void set_meta(const std::string& key, const std::string& value) override;
  std::string meta(const std::string& key) const override;
  std::vector<core::MetricRow> metrics(std::int64_t trial = -1, const std::string& name = "") const override;
  std::int64_t last_step(std::int64_t trial) const override;
  std::int64_t count_events(const std::string& kind) const override;
  std::vector<TrialRow> trials() const override;
  std::vector<std::string> state_log(const std::string& key) const override;
  std::int64_t state_log_bytes(const std::string& key) const override;

  // The work queue (store/postgres_work_queue.cpp).
  bool create_study(const std::string& dir, const std::string& controller_state) override;
  std::string study_dir() override;
  Turn turn(const std::optional<std::pair<Job, Result>>& finished, bool claim, const std::string& worker, double lease_seconds,
            Decider& decider) override;
  bool renew(const Job& job, double lease_seconds) override;
  void release(const Job& job) override;
  Counts counts() override;
  std::vector<std::pair<Job, Result>> results() override;
  std::string controller_state() override;
  std::vector<std::string> decisions(std::int64_t after = 0) override;

  // For tests: the next transaction commits, then reports a lost connection, as when the
  // server's acknowledgment of a COMMIT is lost with the connection.
  void lose_next_commit_ack() { lose_next_ack_ = true; }

  // Runs `body` in one transaction, reconnecting and running it again after a lost connection
  // (see above); for the worker's claims and leases, which need more than the Store calls.
  void transact(const std::function<void(pqxx::transaction_base&)>& body) const;

 private:
  void write(const Batch& batch) override;
  void migrate();
  std::string uri_;
  double reconnect_seconds_;
  struct Connection;  // the libpqxx connection, with this store's prepared statements
  mutable std::unique_ptr<Connection> connection_;
  mutable bool connected_ = false;  // a connection succeeded once
  mutable bool lose_next_ack_ = false;
};

}  // namespace graybox::store
