#include "core/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/error.hpp"

namespace graybox::core {
namespace {

[[noreturn]] void throw_error(const std::string& path, const std::string& what, int error) {
  throw UserError(path + ": " + what + ": " + std::strerror(error));
}

}  // namespace

void sync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

FileWriter::FileWriter(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_error(tmp_, "cannot write", errno);
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void FileWriter::fail(const std::string& what, int error) {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
    fd_ = -1;
  }
  throw_error(tmp_, what, error);
}

void FileWriter::write(const void* data, std::size_t size) {
  if (fd_ < 0) throw UserError(tmp_ + ": written after it was committed or failed");
  if (deferred_error_ != 0) return;
  const char* bytes = static_cast<const char*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd_, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (defer_) {
        deferred_error_ = errno;
        return;
      }
      fail("cannot write", errno);
    }
    done += static_cast<std::size_t>(n);
  }
}

void FileWriter::commit() {
  if (fd_ < 0) throw UserError(tmp_ + ": committed twice or after it failed");
  if (deferred_error_ != 0) fail("cannot write", deferred_error_);
  if (::fsync(fd_) != 0) fail("cannot write", errno);
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) {
    const int error = errno;
    ::unlink(tmp_.c_str());
    throw_error(tmp_, "cannot write", error);
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp_.c_str());
    throw_error(path_, "cannot replace", error);
  }
  const auto parent = std::filesystem::path(path_).parent_path();
  sync_path(parent.empty() ? "." : parent.string());
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  FileWriter file(path);
  file.write(contents.data(), contents.size());
  file.commit();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open the file");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

DirLock::DirLock(const std::string& dir, const std::string& file) {
  const std::string path = dir + "/" + file;
  const std::string what = file == "lock" ? dir : path;
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_error(path, "cannot open the lock file", errno);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char pid[32] = {0};
    const ssize_t n = ::pread(fd_, pid, sizeof(pid) - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (error != EWOULDBLOCK) throw_error(path, "cannot lock", error);
    std::string owner = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : std::string("?");
    while (!owner.empty() && (owner.back() == '\n' || owner.back() == ' ')) owner.pop_back();
    throw UserError(what + ": in use by pid " + owner + " (another graybox process is running in it)");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    throw_error(path, "cannot write the lock file", error);
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace graybox::core
