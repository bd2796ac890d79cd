// The running statistics behind the control observation, apart from the env so they test on
// their own: the discounted mean and variance of the minibatch log losses, and the cosine of
// consecutive update directions of a flat parameter vector.
#pragma once

#include <cstddef>
#include <vector>

namespace graybox::dac {

// Exponentially discounted mean and variance (West's update): each value x moves the mean by
// (1 − decay)(x − mean), and the variance becomes decay·(var + (1 − decay)(x − mean_old)²).
// The first value sets the mean, with variance 0.
class DiscountedStats {
 public:
  explicit DiscountedStats(double decay = 0.98) : decay_(decay) {}
  void add(double x);
  void clear() { n_ = 0, mean_ = 0, var_ = 0; }
  double mean() const { return mean_; }
  double variance() const { return var_; }
  std::size_t count() const { return n_; }
  // A checkpoint's values back in place.
  void restore(std::size_t count, double mean, double variance) { n_ = count, mean_ = mean, var_ = variance; }

 private:
  double decay_;
  std::size_t n_ = 0;
  double mean_ = 0, var_ = 0;
};

// Update directions of a parameter vector: observe(θ) after each control step; the direction
// is θ − θ_previous, and alignment() is the cosine of the last two directions (0 until there
// are two, or when either is zero). One pass over the parameters per observe.
class UpdateAlignment {
 public:
  void start(const std::vector<float>& theta);  // the parameters before the first step
  double observe(const std::vector<float>& theta);  // returns the new alignment
  double alignment() const { return alignment_; }
  double last_update_norm() const { return update_norm_; }
  const std::vector<float>& direction() const { return direction_; }
  bool has_direction() const { return have_direction_; }
  // A checkpoint's state back in place: the parameters now (the last observed), the last
  // direction and the figures derived from it.
  void restore(const std::vector<float>& theta, std::vector<float> direction, bool has_direction, double alignment,
               double update_norm);

 private:
  std::vector<float> previous_, direction_;
  bool have_direction_ = false;
  double alignment_ = 0, update_norm_ = 0;
};

}  // namespace graybox::dac
