#include "optim/save_archive.hpp"

#include <torch/serialize/output-archive.h>

#include "core/files.hpp"

namespace graybox::optim {

void save_archive(torch::serialize::OutputArchive& archive, const std::string& path) {
  core::FileWriter file(path);
  // The zip writer must never see a failed write (see the header): the writer records it, and
  // commit() reports it once the archive is complete.
  file.defer_errors();
  archive.save_to([&file](const void* data, std::size_t size) {
    file.write(data, size);
    return size;
  });
  file.commit();
}

}  // namespace graybox::optim
