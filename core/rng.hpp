// Seeded random streams. One experiment seed; every consumer (env, agent, controller)
// derives its own stream with derive_seed(seed, stream, index), so adding a consumer never
// shifts another's numbers and results do not depend on thread scheduling.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>

namespace graybox::core {

// SplitMix64 finaliser: a cheap, well-mixed hash of 64 bits.
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Well-known stream identifiers, so that no two consumers share a stream by accident.
enum class Stream : std::uint64_t {
  kEnv = 1,        // index = env slot in a VecEnv
  kAgent = 2,      // action sampling and minibatch shuffling
  kInit = 3,       // network initialisation
  kEval = 4,       // evaluation episodes
  kController = 5, // a controller's own decisions
  kTrial = 6,      // index = trial or population member
  kData = 7,       // data set splits and shuffles
  kExploit = 8,    // index = a population member's exploit count (its streams after a copy)
};

inline std::uint64_t derive_seed(std::uint64_t seed, Stream stream, std::uint64_t index = 0) {
  return mix64(mix64(seed ^ mix64(static_cast<std::uint64_t>(stream))) + index);
}

// A 64-bit Mersenne Twister whose distributions are written out here, not taken from the
// standard library, so the same seed gives the same numbers with any compiler or libstdc++.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : engine_(seed) {}

  void seed(std::uint64_t seed) {
    engine_.seed(seed);
    has_spare_ = false;
  }

  std::uint64_t next_u64() { return engine_(); }

  // Uniform on [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }

  double uniform(double low, double high) { return low + (high - low) * uniform(); }

  // Uniform integer on [0, n) without modulo bias.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do {
      x = engine_();
    } while (x >= limit);
    return x % n;
  }

  // Standard normal by the Marsaglia polar method; the second value is cached.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

  double normal(double mean, double stddev) { return mean + stddev * normal(); }

  // Fisher-Yates shuffle of [first, last).
  template <typename It>
  void shuffle(It first, It last) {
    const auto n = static_cast<std::uint64_t>(last - first);
    for (std::uint64_t i = n; i > 1; --i) {
      const std::uint64_t j = below(i);
      std::swap(first[i - 1], first[j]);
    }
  }

  // The complete state as text (engine words plus the cached normal), for checkpoints.
  std::string state() const {
    std::ostringstream out;
    out.precision(17);
    out << engine_ << ' ' << has_spare_ << ' ' << std::hexfloat << spare_;
    return out.str();
  }

  void set_state(const std::string& text) {
    std::istringstream in(text);
    in >> engine_ >> has_spare_;
    std::string spare;
    in >> spare;
    spare_ = std::strtod(spare.c_str(), nullptr);
    if (!in && !in.eof()) throw std::runtime_error("corrupt RNG state");
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace graybox::core
