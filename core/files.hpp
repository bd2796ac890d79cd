// Crash-safe file writing: write to a temporary name, flush to disk, then rename over the
// target, so a reader sees either the old file or the new one, never half of one.
#pragma once

#include <string>

namespace graybox::core {

void write_file_atomic(const std::string& path, const std::string& contents);
std::string read_file(const std::string& path);  // throws UserError naming the path
// fsync a file or directory by path (best effort).
void sync_path(const std::string& path);

}  // namespace graybox::core
