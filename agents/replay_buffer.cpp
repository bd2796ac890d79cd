#include "agents/replay_buffer.hpp"

#include <fstream>

#include "core/error.hpp"
#include "core/files.hpp"

namespace graybox::agents {
namespace {

constexpr char kMagic[8] = {'G', 'B', 'R', 'E', 'P', 'L', 'A', 'Y'};
constexpr std::int64_t kVersion = 1;

}  // namespace

ReplayBuffer::ReplayBuffer(std::int64_t capacity, int obs_dim, int act_dim)
    : capacity_(capacity), obs_dim_(obs_dim), act_dim_(act_dim) {
  const auto rows = static_cast<std::size_t>(capacity);
  obs_.assign(rows * obs_dim, 0.0f);
  next_obs_.assign(rows * obs_dim, 0.0f);
  actions_.assign(rows * act_dim, 0.0f);
  rewards_.assign(rows, 0.0f);
  dones_.assign(rows, 0.0f);
}

void ReplayBuffer::add(int n, const double* obs, const double* actions, const double* rewards, const double* next_obs,
                       const double* final_obs, const std::uint8_t* terminated, const std::uint8_t* truncated) {
  for (int e = 0; e < n; ++e) {
    const auto row = static_cast<std::size_t>(pos_);
    const double* next = (truncated[e] ? final_obs : next_obs) + static_cast<std::size_t>(e) * obs_dim_;
    for (int j = 0; j < obs_dim_; ++j) {
      obs_[row * obs_dim_ + j] = static_cast<float>(obs[static_cast<std::size_t>(e) * obs_dim_ + j]);
      next_obs_[row * obs_dim_ + j] = static_cast<float>(next[j]);
    }
    for (int j = 0; j < act_dim_; ++j) {
      actions_[row * act_dim_ + j] = static_cast<float>(actions[static_cast<std::size_t>(e) * act_dim_ + j]);
    }
    rewards_[row] = static_cast<float>(rewards[e]);
    dones_[row] = terminated[e] ? 1.0f : 0.0f;
    pos_ = (pos_ + 1) % capacity_;
    if (size_ < capacity_) ++size_;
  }
}

void ReplayBuffer::sample_indices(int batch, core::Rng& rng, std::vector<std::int64_t>& indices) const {
  indices.resize(static_cast<std::size_t>(batch));
  for (auto& i : indices) {
    i = std::min<std::int64_t>(size_ - 1, static_cast<std::int64_t>(rng.uniform() * static_cast<double>(size_)));
  }
}

void ReplayBuffer::gather(const std::vector<std::int64_t>& indices, float* obs, float* actions, float* rewards,
                          float* next_obs, float* dones) const {
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const auto row = static_cast<std::size_t>(indices[k]);
    std::copy_n(obs_.data() + row * obs_dim_, obs_dim_, obs + k * obs_dim_);
    std::copy_n(next_obs_.data() + row * obs_dim_, obs_dim_, next_obs + k * obs_dim_);
    std::copy_n(actions_.data() + row * act_dim_, act_dim_, actions + k * act_dim_);
    rewards[k] = rewards_[row];
    dones[k] = dones_[row];
  }
}

void ReplayBuffer::save(const std::string& path) const {
  core::FileWriter out(path);
  const std::int64_t header[6] = {kVersion, capacity_, size_, pos_, obs_dim_, act_dim_};
  out.write(kMagic, sizeof kMagic);
  out.write(header, sizeof header);
  const auto write = [&](const std::vector<float>& v, int width) {
    out.write(v.data(), sizeof(float) * static_cast<std::size_t>(size_) * static_cast<std::size_t>(width));
  };
  write(obs_, obs_dim_);
  write(next_obs_, obs_dim_);
  write(actions_, act_dim_);
  write(rewards_, 1);
  write(dones_, 1);
  out.commit();
}

void ReplayBuffer::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw core::UserError(path + ": cannot open the replay buffer file");
  char magic[sizeof kMagic] = {};
  std::int64_t header[6] = {};
  in.read(magic, sizeof magic);
  in.read(reinterpret_cast<char*>(header), sizeof header);
  if (!in || !std::equal(magic, magic + sizeof magic, kMagic) || header[0] != kVersion) {
    throw core::UserError(path + ": not a graybox replay buffer file");
  }
  if (header[4] != obs_dim_ || header[5] != act_dim_ || header[2] < 0 || header[2] > header[1] || header[3] < 0 ||
      header[3] >= std::max<std::int64_t>(1, header[1])) {
    throw core::UserError(path + ": the replay buffer has another shape than this config's agent");
  }
  if (header[1] != capacity_) *this = ReplayBuffer(header[1], obs_dim_, act_dim_);
  size_ = header[2];
  pos_ = header[3];
  const auto read = [&](std::vector<float>& v, int width) {
    in.read(reinterpret_cast<char*>(v.data()),
            static_cast<std::streamsize>(sizeof(float) * static_cast<std::size_t>(size_) * width));
  };
  read(obs_, obs_dim_);
  read(next_obs_, obs_dim_);
  read(actions_, act_dim_);
  read(rewards_, 1);
  read(dones_, 1);
  if (!in) throw core::UserError(path + ": the replay buffer file is truncated");
}

bool ReplayBuffer::operator==(const ReplayBuffer& o) const {
  return capacity_ == o.capacity_ && size_ == o.size_ && pos_ == o.pos_ && obs_ == o.obs_ &&
         next_obs_ == o.next_obs_ && actions_ == o.actions_ && rewards_ == o.rewards_ && dones_ == o.dones_;
}

}  // namespace graybox::agents
