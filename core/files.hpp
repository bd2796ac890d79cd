// Crash-safe file writing: write to a temporary name, flush to disk, then rename over the
// target, so a reader sees either the old file or the new one, never half of one. And the
// exclusive lock that keeps a second process out of a run directory.
#pragma once

#include <string>

namespace graybox::core {

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
