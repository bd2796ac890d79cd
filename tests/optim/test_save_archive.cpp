// save_archive: LibTorch archives written through core::FileWriter. A failed write is a
// UserError naming the file and the cause; OutputArchive::save_to(path) aborts the process
// instead (c10::Error thrown from the zip writer's destructor), which is what issue 11 item 2
// found for `train` on a full disk.
#include "optim/save_archive.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <csignal>
#include <filesystem>

#include "core/error.hpp"
#include "tests/support/processes.hpp"

namespace graybox::optim {
namespace {

namespace fs = std::filesystem;

torch::serialize::OutputArchive archive_of(const torch::Tensor& t) {
  torch::serialize::OutputArchive archive;
  archive.write("weights", t);
  return archive;
}

TEST(SaveArchive, WritesAnArchiveThatLoadsBack) {
  const std::string path = graybox::testing::fresh_dir("save_archive") + "/a.pt";
  const torch::Tensor t = torch::arange(1000, torch::kFloat32);
  auto archive = archive_of(t);
  save_archive(archive, path);
  torch::serialize::InputArchive in;
  in.load_from(path);
  torch::Tensor back;
  in.read("weights", back);
  EXPECT_TRUE(torch::equal(back, t));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(SaveArchive, AFailedWriteIsAUserErrorNotAnAbortAndLeavesNoFile) {
  const std::string path = graybox::testing::fresh_dir("save_archive_full") + "/a.pt";
  const int code = graybox::testing::exit_code_in_child([&] {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{64 * 1024, 64 * 1024};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 5;
    auto archive = archive_of(torch::ones({100000}, torch::kFloat32));  // 400 kB
    try {
      save_archive(archive, path);
      return 3;
    } catch (const core::UserError& e) {
      return std::string(e.what()).find(path + ".tmp: cannot write: File too large") != std::string::npos ? 0 : 6;
    } catch (...) {
      return 7;
    }
  });
  EXPECT_EQ(code, 0) << "-1: the process aborted; 7: another exception than a UserError";
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

}  // namespace
}  // namespace graybox::optim
