// IDX and CSV loaders on good, truncated and corrupt files (small files made here), the seeded
// split, standardisation, the teacher-student generator and the Debian-shipped files.
#include "optim/dataset.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "core/error.hpp"

namespace graybox::optim {
namespace {

std::string temp_file(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("graybox_data_" + std::to_string(::getpid()) + "_" + name)).string();
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

void write_plain(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// 3 images of 2x2 and their labels.
std::string images_bytes() {
  std::string b = std::string("\0\0\x08\x03", 4) + be32(3) + be32(2) + be32(2);
  for (int i = 0; i < 12; ++i) b.push_back(static_cast<char>(i * 20));
  return b;
}
std::string labels_bytes() { return std::string("\0\0\x08\x01", 4) + be32(3) + std::string("\x02\x00\x09", 3); }

TEST(Idx, ReadsGzippedAndPlainFiles) {
  const std::string images = temp_file("img.gz"), labels = temp_file("lbl");
  write_gz(images, images_bytes());
  write_plain(labels, labels_bytes());
  const Dataset d = load_idx(images, labels);
  EXPECT_EQ(d.size(), 3);
  EXPECT_EQ(d.shape, (std::vector<std::int64_t>{1, 2, 2}));
  EXPECT_FLOAT_EQ(d.x[5], 100.0f / 255.0f);
  EXPECT_EQ(d.y, (std::vector<std::int64_t>{2, 0, 9}));
  std::filesystem::remove(images);
  std::filesystem::remove(labels);
}

void expect_user_error(const std::function<void()>& f, const std::string& must_name, const std::string& also = "") {
  try {
    f();
    FAIL() << "no error";
  } catch (const core::UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(must_name), std::string::npos) << what;
    if (!also.empty()) {
      EXPECT_NE(what.find(also), std::string::npos) << what;
    }
  }
}

TEST(Idx, TruncatedCorruptAndMismatchedFilesFailNamingTheFile) {
  const std::string images = temp_file("img2.gz"), labels = temp_file("lbl2");
  std::string truncated = images_bytes();
  truncated.resize(truncated.size() - 3);
  write_gz(images, truncated);
  write_plain(labels, labels_bytes());
  expect_user_error([&] { load_idx(images, labels); }, images, "truncated");

  write_gz(images, "\x01\x02\x03\x04 not idx");
  expect_user_error([&] { load_idx(images, labels); }, images, "magic");

  // A gzip stream cut in half.
  write_gz(images, images_bytes() + std::string(5000, 'x'));
  {
    std::ifstream in(images, std::ios::binary);
    std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    write_plain(images, gz.substr(0, gz.size() / 2));
  }
  expect_user_error([&] { load_idx(images, labels); }, images);

  write_gz(images, images_bytes());
  write_plain(labels, std::string("\0\0\x08\x01", 4) + be32(2) + std::string("\x01\x02", 2));
  expect_user_error([&] { load_idx(images, labels); }, labels, "labels");
  expect_user_error([&] { load_idx(images, temp_file("missing")); }, temp_file("missing"));
  std::filesystem::remove(images);
  std::filesystem::remove(labels);
}

TEST(Csv, ReadsSklearnLayoutsAndRejectsBadFiles) {
  const std::string path = temp_file("iris.csv");
  write_plain(path, "4,2,a,b\n1.0,2.0,0\n3.0,4.0,1\n5.0,6.0,1\n7.0,8.0,0\n");
  const Dataset d = load_sklearn_csv(path, "tiny");
  EXPECT_EQ(d.size(), 4);
  EXPECT_EQ(d.shape, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(d.num_classes, 2);
  EXPECT_FLOAT_EQ(d.x[3], 4.0f);

  const std::string gz = temp_file("digits.csv.gz");  // digits: no header
  write_gz(gz, "0,1,2,3\n4,5,6,7\n");
  EXPECT_EQ(load_sklearn_csv(gz, "d").num_classes, 8);

  write_plain(path, "5,2,a,b\n1.0,2.0,0\n3.0,4.0,1\n");
  expect_user_error([&] { load_sklearn_csv(path, "t"); }, path, "truncated");
  write_plain(path, "2,2,a,b\n1.0,2.0,0\n3.0,4.0\n");
  expect_user_error([&] { load_sklearn_csv(path, "t"); }, path + ":3");
  write_plain(path, "2,2,a,b\n1.0,abc,0\n3.0,4.0,1\n");
  expect_user_error([&] { load_sklearn_csv(path, "t"); }, path + ":2", "abc");
  write_plain(path, "2,2,a,b\n1.0,2.0,x\n3.0,4.0,1\n");
  expect_user_error([&] { load_sklearn_csv(path, "t"); }, path + ":2", "label");
  std::filesystem::remove(path);
  std::filesystem::remove(gz);
}

TEST(Split, SeededDisjointAndStandardized) {
  TeacherStudentOptions o;
  o.examples = 1000;
  const Dataset all = teacher_student(o, 7);
  EXPECT_EQ(all.size(), 1000);
  EXPECT_EQ(teacher_student(o, 7).y, all.y);
  Split a = split_dataset(all, 0.1, 0.2, 3), b = split_dataset(all, 0.1, 0.2, 3), c = split_dataset(all, 0.1, 0.2, 4);
  EXPECT_EQ(a.train.size(), 700);
  EXPECT_EQ(a.val.size(), 100);
  EXPECT_EQ(a.test.size(), 200);
  EXPECT_EQ(a.train.x, b.train.x);
  EXPECT_NE(a.train.x, c.train.x);
  standardize(a, true);
  double mean = 0;
  for (std::int64_t i = 0; i < a.train.size(); ++i) mean += a.train.x[static_cast<std::size_t>(i * o.dim)];
  EXPECT_NEAR(mean / static_cast<double>(a.train.size()), 0.0, 1e-4);
}

TEST(DebianData, SklearnSetsAndFashionMnistTestSplit) {
  if (!std::filesystem::exists(kSklearnDataDir)) GTEST_SKIP() << "python3-sklearn is not installed";
  EXPECT_EQ(load_sklearn("iris").size(), 150);
  EXPECT_EQ(load_sklearn("wine").num_classes, 3);
  EXPECT_EQ(load_sklearn("breast_cancer").shape, (std::vector<std::int64_t>{30}));
  const Dataset digits = load_sklearn("digits");
  EXPECT_EQ(digits.size(), 1797);
  EXPECT_EQ(digits.num_classes, 10);
  if (!std::filesystem::exists(kFashionMnistDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const Dataset test = load_fashion_mnist("test");
  EXPECT_EQ(test.size(), 10000);
  EXPECT_EQ(test.shape, (std::vector<std::int64_t>{1, 28, 28}));
}

}  // namespace
}  // namespace graybox::optim
