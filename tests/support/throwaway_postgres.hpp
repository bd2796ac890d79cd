// ThrowawayPostgres: a PostgreSQL server of its own for a test process: initdb into a temp dir,
// pg_ctl on a free loopback port (as the postgres user when the test runs as root, which the
// server refuses), one database "graybox"; stopped and removed by the destructor. Every wait
// has a deadline: a server that does not come up fails the test, it does not hang it.
#pragma once

#include <string>

namespace graybox::testing {

class ThrowawayPostgres {
 public:
  ThrowawayPostgres();  // throws std::runtime_error with the server's log if it cannot start
  ~ThrowawayPostgres();
  ThrowawayPostgres(const ThrowawayPostgres&) = delete;
  ThrowawayPostgres& operator=(const ThrowawayPostgres&) = delete;

  // postgresql://postgres@127.0.0.1:PORT/graybox
  std::string url() const;
  // Creates an empty database (name: letters, digits, _) and returns its URL.
  std::string fresh_database(const std::string& name) const;
  int port() const { return port_; }
  void stop();   // fast shutdown: clients see their connections end
  void start();  // again, on the same port and data

 private:
  void run(const std::string& command, int timeout_seconds) const;  // as the server's user
  std::string dir_;
  int port_ = 0;
  bool running_ = false;
};

// The server this test process shares between its tests (started on first use).
ThrowawayPostgres& shared_postgres();

}  // namespace graybox::testing
