#include "agents/ppo_policy.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "core/error.hpp"
#include "optim/save_archive.hpp"

namespace graybox::agents {
namespace {

constexpr const char* kFormat = "graybox-ppo-policy-1";

torch::Tensor doubles(const std::vector<double>& v) {
  return torch::tensor(v, torch::kFloat64).reshape({static_cast<std::int64_t>(v.size())});
}
torch::Tensor floats(const std::vector<float>& v) {
  return torch::tensor(v, torch::kFloat32).reshape({static_cast<std::int64_t>(v.size())});
}
torch::Tensor text(const std::string& s) {
  std::vector<std::int64_t> bytes(s.begin(), s.end());
  return torch::tensor(bytes, torch::kInt64).reshape({static_cast<std::int64_t>(bytes.size())});
}

torch::Tensor read(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor t;
  archive.read(key, t);
  return t.contiguous();
}
std::vector<double> read_doubles(torch::serialize::InputArchive& archive, const std::string& key) {
  const torch::Tensor t = read(archive, key).to(torch::kFloat64);
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}
std::vector<float> read_floats(torch::serialize::InputArchive& archive, const std::string& key) {
  const torch::Tensor t = read(archive, key).to(torch::kFloat32);
  return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}
std::string read_text(torch::serialize::InputArchive& archive, const std::string& key) {
  const torch::Tensor t = read(archive, key).to(torch::kInt64);
  std::string s;
  for (std::int64_t i = 0; i < t.numel(); ++i) s.push_back(static_cast<char>(t.data_ptr<std::int64_t>()[i]));
  return s;
}

}  // namespace

PpoPolicy::PpoPolicy(MlpInference actor, ObsNormalizer normalizer, std::vector<double> act_low,
                     std::vector<double> act_high, std::string meta)
    : actor_(std::move(actor)), normalizer_(std::move(normalizer)), act_low_(std::move(act_low)),
      act_high_(std::move(act_high)), meta_(std::move(meta)) {
  if (static_cast<int>(act_low_.size()) != act_dim() || static_cast<int>(act_high_.size()) != act_dim() ||
      static_cast<int>(normalizer_.rms.mean.size()) != obs_dim() || normalizer_.rms.var.size() != normalizer_.rms.mean.size()) {
    throw std::invalid_argument("PpoPolicy: the actor, the normaliser and the bounds disagree in size");
  }
  row_.resize(static_cast<std::size_t>(obs_dim()));
  mean_.resize(static_cast<std::size_t>(act_dim()));
}

void PpoPolicy::act(const double* obs, double* action) {
  normalizer_.normalize(obs, 1, row_.data());
  actor_.forward(row_.data(), mean_.data());
  for (int j = 0; j < act_dim(); ++j) {
    action[j] = std::clamp(static_cast<double>(mean_[j]), act_low_[j], act_high_[j]);
  }
}

void PpoPolicy::save(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  archive.write("format", text(kFormat));
  archive.write("layers", torch::tensor({static_cast<std::int64_t>(actor_.layers().size())}, torch::kInt64));
  for (std::size_t l = 0; l < actor_.layers().size(); ++l) {
    const auto& layer = actor_.layers()[l];
    archive.write("layer" + std::to_string(l) + ".weight", floats(layer.weight).reshape({layer.out, layer.in}));
    archive.write("layer" + std::to_string(l) + ".bias", floats(layer.bias));
  }
  archive.write("obs_mean", doubles(normalizer_.rms.mean));
  archive.write("obs_var", doubles(normalizer_.rms.var));
  archive.write("obs_count", doubles({normalizer_.rms.count}));
  archive.write("obs_clip", doubles({normalizer_.clip}));
  archive.write("obs_normalize", doubles({normalizer_.enabled ? 1.0 : 0.0}));
  archive.write("act_low", doubles(act_low_));
  archive.write("act_high", doubles(act_high_));
  archive.write("meta", text(meta_));
  optim::save_archive(archive, path);
}

PpoPolicy PpoPolicy::load(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw core::UserError(path + ": no such policy file");
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    if (read_text(archive, "format") != kFormat) throw std::runtime_error("not a policy archive");
    const std::int64_t count = read(archive, "layers").item<std::int64_t>();
    if (count < 1 || count > 64) throw std::runtime_error("bad layer count");
    std::vector<MlpInference::Layer> layers;
    for (std::int64_t l = 0; l < count; ++l) {
      const std::string name = "layer" + std::to_string(l);
      const torch::Tensor w = read(archive, name + ".weight");
      if (w.dim() != 2) throw std::runtime_error(name + ".weight is not a matrix");
      MlpInference::Layer layer;
      layer.out = static_cast<int>(w.size(0));
      layer.in = static_cast<int>(w.size(1));
      layer.weight = read_floats(archive, name + ".weight");
      layer.bias = read_floats(archive, name + ".bias");
      if (static_cast<int>(layer.bias.size()) != layer.out || (!layers.empty() && layers.back().out != layer.in)) {
        throw std::runtime_error(name + " does not fit the layer before it");
      }
      layers.push_back(std::move(layer));
    }
    MlpInference actor;
    actor.set_layers(std::move(layers));
    ObsNormalizer normalizer;
    normalizer.rms.mean = read_doubles(archive, "obs_mean");
    normalizer.rms.var = read_doubles(archive, "obs_var");
    normalizer.rms.count = read_doubles(archive, "obs_count").at(0);
    normalizer.clip = read_doubles(archive, "obs_clip").at(0);
    normalizer.enabled = read_doubles(archive, "obs_normalize").at(0) != 0.0;
    return PpoPolicy(std::move(actor), std::move(normalizer), read_doubles(archive, "act_low"),
                     read_doubles(archive, "act_high"), read_text(archive, "meta"));
  } catch (const c10::Error& e) {
    throw core::UserError(path + ": not a valid policy file (" + e.what_without_backtrace() + ")");
  } catch (const std::exception& e) {
    throw core::UserError(path + ": not a valid policy file (" + e.what() + ")");
  }
}

}  // namespace graybox::agents
