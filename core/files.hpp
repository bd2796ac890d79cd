// Crash-safe file writing: write to a temporary name, flush to disk, then rename over the
// target, so a reader sees either the old file or the new one, never half of one. And the
// exclusive lock that keeps a second process out of a run directory.
#pragma once

#include <cstddef>
#include <string>

namespace graybox::core {

// A file written as a stream, crash-safe: the bytes go to PATH.tmp, and commit() flushes them to
// disk and renames the file over PATH. Every failure (open, write, fsync, close, rename) throws a
// UserError naming the path and the cause (e.g. "No space left on device") and removes PATH.tmp,
// so a failed write never leaves a partial file; so does a writer destroyed uncommitted.
class FileWriter {
 public:
  explicit FileWriter(std::string path);
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  void write(const void* data, std::size_t size);
  void commit();
  // For writers that must not throw mid-stream (LibTorch's archive writer calls back through C
  // code, and throws from its destructor if told of a failed write): write() then only records
  // the first failure, drops the rest, and commit() throws it.
  void defer_errors() { defer_ = true; }

 private:
  [[noreturn]] void fail(const std::string& what, int error);

  std::string path_, tmp_;
  int fd_ = -1;
  bool defer_ = false;
  int deferred_error_ = 0;
};

// Both throw UserError naming the path and the cause (e.g. "No space left on device").
void write_file_atomic(const std::string& path, const std::string& contents);
std::string read_file(const std::string& path);
// fsync a file or directory by path (best effort).
void sync_path(const std::string& path);

// An exclusive lock on a directory (flock on DIR/lock, which holds the owner's pid), held for
// the object's life and released by the kernel if the process dies. A second process that
// asks for it gets a UserError "DIR: in use by pid N". `file` names another lock file in DIR,
// for a thing that DIR holds (e.g. trials/7.lock for a trial folder that is swapped as a whole).
class DirLock {
 public:
  explicit DirLock(const std::string& dir, const std::string& file = "lock");
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace graybox::core
