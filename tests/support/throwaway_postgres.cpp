#include "tests/support/throwaway_postgres.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace graybox::testing {
namespace {

const char* const kBin = "/usr/lib/postgresql/15/bin/";

// A loopback port nobody listens on now (the kernel's choice for port 0).
int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("no free loopback port");
  }
  ::close(s);
  return ntohs(address.sin_port);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

ThrowawayPostgres::ThrowawayPostgres() {
  if (!fs::exists(std::string(kBin) + "initdb")) {
    throw std::runtime_error(std::string(kBin) + "initdb: missing (scripts/setup.sh installs postgresql)");
  }
  dir_ = (fs::temp_directory_path() / ("graybox_pg_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  if (::getuid() == 0) {
    const passwd* user = ::getpwnam("postgres");
    if (!user || ::chown(dir_.c_str(), user->pw_uid, user->pw_gid) != 0) {
      throw std::runtime_error("the postgres user is missing (scripts/setup.sh installs postgresql)");
    }
  }
  port_ = free_port();
  run(std::string(kBin) + "initdb -D " + dir_ + "/data -A trust -U postgres --no-sync -E UTF8 > " + dir_ + "/initdb.log 2>&1", 60);
  start();
  fresh_database("graybox");
}

std::string ThrowawayPostgres::fresh_database(const std::string& name) const {
  run(std::string(kBin) + "psql -q -h 127.0.0.1 -p " + std::to_string(port_) + " -U postgres -c 'DROP DATABASE IF EXISTS " +
          name + "' -c 'CREATE DATABASE " + name + "' postgres >> " + dir_ + "/initdb.log 2>&1",
      30);
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

ThrowawayPostgres::~ThrowawayPostgres() {
  try {
    if (running_) run(std::string(kBin) + "pg_ctl -D " + dir_ + "/data -m immediate -w -t 20 stop > /dev/null 2>&1", 30);
  } catch (...) {
  }
  fs::remove_all(dir_);
}

std::string ThrowawayPostgres::url() const { return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/graybox"; }

void ThrowawayPostgres::start() {
  // fsync off: a test server's data need not survive a power cut.
  run(std::string(kBin) + "pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -t 30 -o \"-p " + std::to_string(port_) +
          " -k " + dir_ + " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start > /dev/null",
      40);
  running_ = true;
}

void ThrowawayPostgres::stop() {
  run(std::string(kBin) + "pg_ctl -D " + dir_ + "/data -m fast -w -t 30 stop > /dev/null", 40);
  running_ = false;
}

void ThrowawayPostgres::run(const std::string& command, int timeout_seconds) const {
  std::string quoted = "'";  // the command as one shell word
  for (const char c : command) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  const std::string line = "timeout " + std::to_string(timeout_seconds) + " " +
                           (::getuid() == 0 ? "runuser -u postgres -- " : "") + "sh -c " + quoted;
  if (std::system(line.c_str()) != 0) {
    throw std::runtime_error("'" + command + "' failed; initdb log:\n" + read_all(dir_ + "/initdb.log") +
                             "\nserver log:\n" + read_all(dir_ + "/server.log"));
  }
}

ThrowawayPostgres& shared_postgres() {
  static ThrowawayPostgres server;
  return server;
}

}  // namespace graybox::testing
