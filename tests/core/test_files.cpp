// Files: atomic writes and directory locks.
#include "core/files.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.hpp"
#include "tests/support/processes.hpp"

namespace fs = std::filesystem;

namespace graybox::core {
namespace {

using graybox::testing::exit_code_in_child;
std::string temp_dir(const std::string& name) { return graybox::testing::fresh_dir("files_" + name); }

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
