// Files: atomic writes and directory locks.
#include "core/files.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
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

// Issue 11 item 2: a write that fails part-way (here on a file-size limit, EFBIG, as on a full
// disk) throws naming the file and the cause, at once or, with deferred errors, at commit();
// either way neither the file nor its temporary is left behind. In a child process, whose
// limit does not reach the test runner.
TEST(Files, AFileWriterReportsAFailedWriteAtCloseAndLeavesNoPartialFile) {
  const std::string dir = temp_dir("writer");
  for (const bool deferred : {false, true}) {
    const std::string path = dir + (deferred ? "/deferred.bin" : "/at_once.bin");
    const int code = exit_code_in_child([&] {
      std::signal(SIGXFSZ, SIG_IGN);
      const rlimit limit{4096, 4096};
      if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 5;
      const std::string block(1024, 'x');
      try {
        FileWriter file(path);
        if (deferred) file.defer_errors();
        for (int i = 0; i < 8; ++i) file.write(block.data(), block.size());
        if (!deferred) return 3;  // the fifth block crosses the limit
        file.commit();
        return 4;
      } catch (const UserError& e) {
        return std::string(e.what()).find(path + ".tmp: cannot write: File too large") != std::string::npos ? 0 : 6;
      }
    });
    EXPECT_EQ(code, 0) << (deferred ? "deferred" : "at once");
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(fs::exists(path + ".tmp"));
  }
  // Within the limit the same writer commits the whole file.
  const std::string path = dir + "/small.bin";
  FileWriter file(path);
  file.write("abc", 3);
  EXPECT_FALSE(fs::exists(path)) << "visible before commit";
  file.commit();
  EXPECT_EQ(read_file(path), "abc");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
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
