// Writing a LibTorch archive (a checkpoint's networks and optimizer state) to a file.
// OutputArchive::save_to(path) reports a failed write (a full disk, a file-size limit) by
// throwing a c10::Error from the zip writer's destructor, which aborts the process; this writes
// through core::FileWriter instead: the failure is a UserError naming the file and the cause
// (exit 2), and no partial file is left behind.
#pragma once

#include <string>

namespace torch::serialize {
class OutputArchive;
}

namespace graybox::optim {

void save_archive(torch::serialize::OutputArchive& archive, const std::string& path);

}  // namespace graybox::optim
