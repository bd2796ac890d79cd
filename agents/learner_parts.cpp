#include "agents/learner_parts.hpp"

#include "agents/torch_mlp.hpp"
#include "core/error.hpp"
#include "optim/save_archive.hpp"

namespace graybox::agents {

void save_parts(const LearnerParts& parts, std::int64_t actor_updates, const std::string& path) {
  torch::serialize::OutputArchive root;
  for (const auto& [name, network] : parts.networks) {
    torch::serialize::OutputArchive archive;
    network->save(archive);
    root.write(name, archive);
  }
  for (const auto& [name, optimizer] : parts.optimizers) {
    torch::serialize::OutputArchive archive;
    optimizer->save(archive);
    root.write(name, archive);
  }
  for (const auto& [name, tensor] : parts.tensors) root.write(name, tensor->detach());
  root.write("actor_updates", torch::tensor(static_cast<double>(actor_updates), torch::kFloat64));
  optim::save_archive(root, path);
}

void load_parts(const LearnerParts& parts, std::int64_t& actor_updates, const std::string& path,
                const std::string& algorithm) {
  try {
    torch::serialize::InputArchive root;
    root.load_from(path);
    // Read everything before changing anything, so a bad file leaves the agent as it was.
    std::vector<torch::serialize::InputArchive> networks(parts.networks.size()), optimizers(parts.optimizers.size());
    std::vector<torch::Tensor> tensors(parts.tensors.size());
    for (std::size_t i = 0; i < networks.size(); ++i) root.read(parts.networks[i].first, networks[i]);
    for (std::size_t i = 0; i < optimizers.size(); ++i) root.read(parts.optimizers[i].first, optimizers[i]);
    for (std::size_t i = 0; i < tensors.size(); ++i) root.read(parts.tensors[i].first, tensors[i]);
    torch::Tensor updates;
    root.read("actor_updates", updates);
    for (std::size_t i = 0; i < networks.size(); ++i) parts.networks[i].second->load(networks[i]);
    for (std::size_t i = 0; i < optimizers.size(); ++i) parts.optimizers[i].second->load(optimizers[i]);
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < tensors.size(); ++i) parts.tensors[i].second->copy_(tensors[i]);
    actor_updates = static_cast<std::int64_t>(updates.item<double>());
  } catch (const c10::Error& e) {
    throw core::UserError(path + ": not a valid " + algorithm + " checkpoint (" + e.what_without_backtrace() + ")");
  }
}

void copy_parts(const LearnerParts& from, const LearnerParts& to) {
  for (std::size_t i = 0; i < from.networks.size(); ++i) copy_parameters(*from.networks[i].second, *to.networks[i].second);
  for (std::size_t i = 0; i < from.optimizers.size(); ++i) {
    to.optimizers[i].second->copy_state_from(*from.optimizers[i].second);
  }
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < from.tensors.size(); ++i) to.tensors[i].second->copy_(*from.tensors[i].second);
}

}  // namespace graybox::agents
