#include "optim/dataset.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace graybox::optim {
namespace {

std::uint32_t big_endian(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::vector<std::int64_t> shuffled_indices(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  core::Rng rng(seed);
  rng.shuffle(order.begin(), order.end());
  return order;
}

// "0x1f 0x8b ..." for the first bytes of a file, for messages about binary content.
std::string first_bytes(const std::string& bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < 4; ++i) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "%s0x%02x", i ? " " : "", static_cast<unsigned>(static_cast<unsigned char>(bytes[i])));
    out += hex;
  }
  return out.empty() ? "nothing" : out;
}

bool is_text(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u < 0x7f);
  });
}

// What sklearn's loaders give for each shipped set: features per example and classes.
struct SklearnShape {
  const char* name;
  std::int64_t features;
  int classes;
};
constexpr SklearnShape kSklearnShapes[] = {{"digits", 64, 10}, {"iris", 4, 3}, {"wine", 13, 3}, {"breast_cancer", 30, 2}};

}  // namespace

std::int64_t Dataset::example_size() const {
  std::int64_t n = 1;
  for (const auto d : shape) n *= d;
  return n;
}

Dataset Dataset::subset(const std::vector<std::int64_t>& indices) const {
  Dataset out;
  out.name = name;
  out.shape = shape;
  out.num_classes = num_classes;
  const std::int64_t width = example_size();
  out.x.resize(indices.size() * static_cast<std::size_t>(width));
  out.y.resize(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const auto from = x.begin() + indices[i] * width;
    std::copy(from, from + width, out.x.begin() + static_cast<std::int64_t>(i) * width);
    out.y[i] = y[static_cast<std::size_t>(indices[i])];
  }
  return out;
}

std::string read_maybe_gzip(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw core::UserError(path + ": cannot open the data file (is the package that ships it installed?)");
  }
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
    std::ifstream in(path, std::ios::binary);
    std::string magic(4, '\0');
    in.read(magic.data(), 4);
    magic.resize(static_cast<std::size_t>(in.gcount()));
    if (magic.size() < 2 || magic[0] != '\x1f' || magic[1] != '\x8b') {
      throw core::UserError(path + ": not a gzip file (it starts with " + first_bytes(magic) + ", gzip with 0x1f 0x8b)");
    }
  }
  gzFile file = gzopen(path.c_str(), "rb");  // reads plain files unchanged
  if (!file) throw core::UserError(path + ": cannot open the data file");
  std::string out;
  char buffer[1 << 16];
  int got = 0;
  while ((got = gzread(file, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(got));
  int code = Z_OK;
  const char* message = gzerror(file, &code);
  const std::string error = (got < 0 || (code != Z_OK && code != Z_STREAM_END)) ? std::string(message) : "";
  gzclose(file);
  if (!error.empty()) throw core::UserError(path + ": corrupt or truncated compressed file (" + error + ")");
  return out;
}

std::vector<std::uint8_t> read_idx(const std::string& path, int want_dims, std::vector<std::int64_t>& dims) {
  const std::string bytes = read_maybe_gzip(path);
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  if (bytes.size() < 4 || p[0] != 0 || p[1] != 0 || p[2] != 0x08) {
    throw core::UserError(path + ": not an IDX file of unsigned bytes (bad magic number)");
  }
  const int ndims = p[3];
  if (ndims != want_dims) {
    throw core::UserError(path + ": an IDX file with " + std::to_string(ndims) + " dimensions, expected " +
                          std::to_string(want_dims));
  }
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(ndims);
  if (bytes.size() < header) throw core::UserError(path + ": truncated IDX header");
  dims.clear();
  std::size_t count = 1;
  for (int i = 0; i < ndims; ++i) {
    dims.push_back(big_endian(p + 4 + 4 * i));
    count *= static_cast<std::size_t>(dims.back());
  }
  if (bytes.size() != header + count) {
    std::ostringstream msg;
    msg << path << ": truncated or corrupt IDX file (header promises " << count << " values, the file holds "
        << (bytes.size() < header ? 0 : bytes.size() - header) << ")";
    throw core::UserError(msg.str());
  }
  return std::vector<std::uint8_t>(p + header, p + header + count);
}

Dataset load_idx(const std::string& images_path, const std::string& labels_path) {
  std::vector<std::int64_t> image_dims, label_dims;
  const auto pixels = read_idx(images_path, 3, image_dims);
  const auto labels = read_idx(labels_path, 1, label_dims);
  if (image_dims[0] != label_dims[0]) {
    throw core::UserError(labels_path + ": holds " + std::to_string(label_dims[0]) + " labels but " + images_path +
                          " holds " + std::to_string(image_dims[0]) + " images");
  }
  Dataset d;
  d.shape = {1, image_dims[1], image_dims[2]};
  d.x.resize(pixels.size());
  for (std::size_t i = 0; i < pixels.size(); ++i) d.x[i] = static_cast<float>(pixels[i]) / 255.0f;
  d.y.assign(labels.begin(), labels.end());
  const auto max_label = *std::max_element(d.y.begin(), d.y.end());
  if (max_label > 9) throw core::UserError(labels_path + ": label " + std::to_string(max_label) + " is out of range 0-9");
  d.num_classes = 10;
  return d;
}

Dataset load_fashion_mnist(const std::string& split, const std::string& dir) {
  const std::string prefix = split == "test" ? "t10k" : "train";
  if (split != "train" && split != "test") throw std::invalid_argument("fashion-mnist split must be train or test");
  Dataset d = load_idx(dir + "/" + prefix + "-images-idx3-ubyte.gz", dir + "/" + prefix + "-labels-idx1-ubyte.gz");
  d.name = "fashion_mnist";
  return d;
}

Dataset load_sklearn_csv(const std::string& path, const std::string& name) {
  const std::string text = read_maybe_gzip(path);
  Dataset d;
  d.name = name;
  std::istringstream in(text);
  std::string line;
  std::int64_t line_number = 0, promised = -1, width = -1;
  const auto fail = [&](const std::string& why) {
    throw core::UserError(path + ":" + std::to_string(line_number) + ": " + why);
  };
  // A cell for a message: binary bytes are described, never printed.
  const auto shown = [](const std::string& cell) {
    return is_text(cell) ? "'" + cell + "'" : "a cell of binary bytes (" + first_bytes(cell) + "; not a CSV file?)";
  };
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    if (line_number == 1 && cells.size() >= 2 && cells.size() < 1000) {
      // A header "n_samples,n_features,names..." has non-numeric cells after the first two.
      const bool header = cells.size() > 2 && std::strtod(cells[2].c_str(), nullptr) == 0.0 &&
                          cells[2].find_first_not_of("0123456789.-+eE") != std::string::npos;
      if (header) {
        promised = std::atoll(cells[0].c_str());
        width = std::atoll(cells[1].c_str()) + 1;
        if (promised <= 0 || width <= 1) fail("a malformed header (expected n_samples,n_features,class names)");
        continue;
      }
    }
    if (width < 0) width = static_cast<std::int64_t>(cells.size());
    if (static_cast<std::int64_t>(cells.size()) != width) {
      fail("expected " + std::to_string(width) + " values, got " + std::to_string(cells.size()));
    }
    for (std::int64_t c = 0; c + 1 < width; ++c) {
      char* end = nullptr;
      const float v = std::strtof(cells[static_cast<std::size_t>(c)].c_str(), &end);
      if (end == cells[static_cast<std::size_t>(c)].c_str() || !std::isfinite(v)) fail(shown(cells[static_cast<std::size_t>(c)]) + " is not a number");
      d.x.push_back(v);
    }
    char* end = nullptr;
    const std::string& label_text = cells.back();
    const long label = std::strtol(label_text.c_str(), &end, 10);
    if (end == label_text.c_str() || *end != '\0' || label < 0 || label > 100000) fail("the label " + shown(label_text) + " is not a class index");
    d.y.push_back(label);
  }
  if (d.y.empty()) throw core::UserError(path + ": no data rows");
  if (promised >= 0 && promised != d.size()) {
    throw core::UserError(path + ": truncated (the header promises " + std::to_string(promised) + " rows, the file holds " +
                          std::to_string(d.size()) + ")");
  }
  d.shape = {width - 1};
  d.num_classes = static_cast<int>(*std::max_element(d.y.begin(), d.y.end()) + 1);
  for (const auto& known : kSklearnShapes) {
    if (name != known.name) continue;
    if (width - 1 != known.features) {
      throw core::UserError(path + ": rows of " + std::to_string(width - 1) + " features and a label; " + name + " has " +
                            std::to_string(known.features) + " features (" + std::to_string(known.features + 1) +
                            " columns)");
    }
    if (d.num_classes > known.classes) {
      throw core::UserError(path + ": a label " + std::to_string(d.num_classes - 1) + "; " + name + " has classes 0-" +
                            std::to_string(known.classes - 1));
    }
    d.num_classes = known.classes;
  }
  return d;
}

Dataset load_sklearn(const std::string& name, const std::string& dir) {
  if (name == "digits") return load_sklearn_csv(dir + "/digits.csv.gz", name);
  if (name == "iris") return load_sklearn_csv(dir + "/iris.csv", name);
  if (name == "wine") return load_sklearn_csv(dir + "/wine_data.csv", name);
  if (name == "breast_cancer") return load_sklearn_csv(dir + "/breast_cancer.csv", name);
  throw std::invalid_argument("'" + name + "' is not one of: digits, iris, wine, breast_cancer");
}

Split split_dataset(const Dataset& all, double val_fraction, double test_fraction, std::uint64_t seed) {
  const auto order = shuffled_indices(all.size(), seed);
  const auto n_test = static_cast<std::int64_t>(std::llround(test_fraction * static_cast<double>(all.size())));
  const auto n_val = static_cast<std::int64_t>(std::llround(val_fraction * static_cast<double>(all.size())));
  if (n_test + n_val >= all.size()) {
    std::ostringstream msg;
    msg << "data.val_fraction (" << val_fraction << ") and data.test_fraction (" << test_fraction << ") leave none of "
        << all.name << "'s " << all.size() << " examples for training (their sum must be below 1)";
    throw core::UserError(msg.str());
  }
  Split s;
  s.test = all.subset({order.begin(), order.begin() + n_test});
  s.val = all.subset({order.begin() + n_test, order.begin() + n_test + n_val});
  s.train = all.subset({order.begin() + n_test + n_val, order.end()});
  return s;
}

Split split_train_val(const Dataset& train, Dataset test, double val_fraction, std::uint64_t seed) {
  const auto order = shuffled_indices(train.size(), seed);
  const auto n_val = static_cast<std::int64_t>(std::llround(val_fraction * static_cast<double>(train.size())));
  if (n_val >= train.size()) {
    std::ostringstream msg;
    msg << "data.val_fraction (" << val_fraction << ") leaves none of " << train.name << "'s " << train.size()
        << " training examples for training";
    throw core::UserError(msg.str());
  }
  Split s;
  s.val = train.subset({order.begin(), order.begin() + n_val});
  s.train = train.subset({order.begin() + n_val, order.end()});
  s.test = std::move(test);
  return s;
}

void standardize(Split& split, bool per_feature) {
  const std::int64_t width = split.train.example_size();
  const std::int64_t groups = per_feature ? width : 1;
  std::vector<double> sum(static_cast<std::size_t>(groups), 0.0), sq(static_cast<std::size_t>(groups), 0.0);
  for (std::size_t i = 0; i < split.train.x.size(); ++i) {
    const auto g = per_feature ? i % static_cast<std::size_t>(width) : 0;
    sum[g] += split.train.x[i];
    sq[g] += static_cast<double>(split.train.x[i]) * split.train.x[i];
  }
  const double count = static_cast<double>(split.train.x.size()) / static_cast<double>(groups);
  std::vector<float> mean(sum.size()), inv_std(sum.size());
  for (std::size_t g = 0; g < sum.size(); ++g) {
    const double m = sum[g] / count;
    const double var = std::max(sq[g] / count - m * m, 0.0);
    mean[g] = static_cast<float>(m);
    inv_std[g] = static_cast<float>(var > 1e-12 ? 1.0 / std::sqrt(var) : 1.0);  // constant features stay put
  }
  for (Dataset* d : {&split.train, &split.val, &split.test}) {
    for (std::size_t i = 0; i < d->x.size(); ++i) {
      const auto g = per_feature ? i % static_cast<std::size_t>(width) : 0;
      d->x[i] = (d->x[i] - mean[g]) * inv_std[g];
    }
  }
}

Dataset teacher_student(const TeacherStudentOptions& o, std::uint64_t seed) {
  if (o.dim < 1 || o.hidden < 1 || o.classes < 2 || o.examples < 1) throw std::invalid_argument("teacher-student sizes must be positive (classes >= 2)");
  core::Rng rng(seed);
  // Teacher weights with 1/sqrt(fan_in) scale so the hidden layer is neither saturated nor linear.
  std::vector<double> w1(static_cast<std::size_t>(o.dim * o.hidden)), w2(static_cast<std::size_t>(o.hidden * o.classes));
  for (auto& w : w1) w = rng.normal() / std::sqrt(static_cast<double>(o.dim));
  for (auto& w : w2) w = rng.normal() / std::sqrt(static_cast<double>(o.hidden));
  Dataset d;
  d.name = "teacher_student";
  d.shape = {o.dim};
  d.num_classes = o.classes;
  d.x.resize(static_cast<std::size_t>(o.examples * o.dim));
  d.y.resize(static_cast<std::size_t>(o.examples));
  std::vector<double> h(static_cast<std::size_t>(o.hidden));
  for (std::int64_t n = 0; n < o.examples; ++n) {
    float* x = d.x.data() + n * o.dim;
    for (int i = 0; i < o.dim; ++i) x[i] = static_cast<float>(rng.normal());
    for (int j = 0; j < o.hidden; ++j) {
      double a = 0;
      for (int i = 0; i < o.dim; ++i) a += w1[static_cast<std::size_t>(i * o.hidden + j)] * x[i];
      h[static_cast<std::size_t>(j)] = std::tanh(a);
    }
    int best = 0;
    double best_score = -1e300;
    for (int k = 0; k < o.classes; ++k) {
      double s = 0;
      for (int j = 0; j < o.hidden; ++j) s += w2[static_cast<std::size_t>(j * o.classes + k)] * h[static_cast<std::size_t>(j)];
      if (s > best_score) best_score = s, best = k;
    }
    if (o.label_noise > 0 && rng.uniform() < o.label_noise) best = static_cast<int>(rng.below(static_cast<std::uint64_t>(o.classes)));
    d.y[static_cast<std::size_t>(n)] = best;
  }
  return d;
}

}  // namespace graybox::optim
