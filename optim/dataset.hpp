// Data sets for supervised tasks, all from Debian packages (nothing is downloaded):
// Fashion-MNIST (dataset-fashion-mnist, IDX files, gzipped or not) and the CSV sets shipped by
// python3-sklearn (digits, iris, wine, breast cancer); plus a synthetic teacher-student
// generator for cheap task families. Loaders check every size and value and throw
// core::UserError naming the file on a corrupt or truncated one. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace graybox::optim {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr const char* kSklearnDataDir = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

struct Dataset {
  std::string name;
  std::vector<std::int64_t> shape;  // one example, e.g. {1, 28, 28} or {4}
  std::vector<float> x;             // size() * example_size(), row-major
  std::vector<std::int64_t> y;      // class labels in [0, num_classes)
  int num_classes = 0;

  std::int64_t size() const { return static_cast<std::int64_t>(y.size()); }
  std::int64_t example_size() const;
  // The examples at `indices`, in that order.
  Dataset subset(const std::vector<std::int64_t>& indices) const;
};

// IDX (LeCun's MNIST format): images (magic 0x803, uint8 -> [0, 1]) and labels (magic 0x801).
Dataset load_idx(const std::string& images_path, const std::string& labels_path);
// Raw IDX readers: the dimensions and the bytes. `want_dims` is 3 for images, 1 for labels.
std::vector<std::uint8_t> read_idx(const std::string& path, int want_dims,
                                   std::vector<std::int64_t>& dims);

// "train" (60000) or "test" (10000) from `dir` (default: Debian's).
Dataset load_fashion_mnist(const std::string& split, const std::string& dir = kFashionMnistDir);

// A scikit-learn CSV: an optional header "n_samples,n_features,class names..." (iris, wine,
// breast cancer) or none (digits), then rows of features with the integer label last.
// Gzipped files are read too.
Dataset load_sklearn_csv(const std::string& path, const std::string& name);
// digits, iris, wine or breast_cancer from `dir` (default: Debian's python3-sklearn).
Dataset load_sklearn(const std::string& name, const std::string& dir = kSklearnDataDir);

struct Split {
  Dataset train, val, test;
};
// A seeded random split by fractions (test and val taken from `all`, the rest is train).
Split split_dataset(const Dataset& all, double val_fraction, double test_fraction, std::uint64_t seed);
// Takes `val_fraction` of `train` as validation (seeded); the test set is given.
Split split_train_val(const Dataset& train, Dataset test, double val_fraction, std::uint64_t seed);

// Standardises every feature with the training set's mean and std (per feature, or one
// mean/std for all features when per_feature is false, as for images).
void standardize(Split& split, bool per_feature);

// Teacher-student: x ~ N(0, I_dim); labels are the argmax of a random tanh teacher MLP
// (dim -> hidden -> classes), with a fraction of labels replaced by uniform noise.
struct TeacherStudentOptions {
  int dim = 20, hidden = 32, classes = 4;
  std::int64_t examples = 4000;
  double label_noise = 0.0;
};
Dataset teacher_student(const TeacherStudentOptions& options, std::uint64_t seed);

// Reads a whole file, gunzipping it when it is gzip; throws core::UserError naming the file.
std::string read_maybe_gzip(const std::string& path);

}  // namespace graybox::optim
