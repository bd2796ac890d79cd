// Helpers of the end-to-end CLI tests: run the graybox executable, a per-test temporary
// directory, and a tiny training config (a few hundred env steps).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace graybox_cli_test {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line in `cwd` ("" = here), capturing stdout and stderr.
inline Result shell(const std::string& cwd, const std::string& command_line) {
  const std::string command = (cwd.empty() ? std::string() : "cd '" + cwd + "' && ") + command_line + " 2>&1";
  Result result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe)) result.output += buffer.data();
  const int status = ::pclose(pipe);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Runs `graybox ARGS` in `cwd` ("" = here).
inline Result run_in(const std::string& cwd, const std::string& args) { return shell(cwd, std::string(GRAYBOX_BIN) + " " + args); }
inline Result run(const std::string& args) { return run_in("", args); }

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("graybox_cli_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
             "_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

inline const char* kTinyConfig =
    "seed: 3\n"
    "total_steps: 1024\n"
    "env:\n"
    "  id: InvertedPendulum-v5\n"
    "  num_envs: 2\n"
    "agent:\n"
    "  num_steps: 128\n"
    "  num_minibatches: 4\n"
    "  update_epochs: 2\n"
    "checkpoint:\n"
    "  interval: 512\n"
    "eval:\n"
    "  episodes: 2\n";

}  // namespace graybox_cli_test
