// Test inputs of any floating type, the same for a given seed on every
// run: normally distributed, or drawn from a few values for pooling.
#ifndef GRADC_TESTS_RANDOM_VALUES_H
#define GRADC_TESTS_RANDOM_VALUES_H

#include <iterator>
#include <limits>
#include <random>
#include <vector>

template <typename T> std::vector<T> randomValues(size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<T> values(count);
  for (T &value : values)
    value = static_cast<T>(normal(rng));
  return values;
}

// Values drawn from a few, as a max pool after a relu sees them: ties,
// zeros, -0s, negative values and NaNs.
template <typename T> std::vector<T> poolInputs(size_t count, unsigned seed) {
  const T choices[] = {std::numeric_limits<T>::quiet_NaN(),
                       T(-1),
                       T(-0.0),
                       T(0),
                       T(1),
                       T(2),
                       T(2),
                       T(3),
                       T(3)};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, std::size(choices) - 1);
  std::vector<T> values(count);
  for (T &value : values)
    value = choices[pick(rng)];
  return values;
}

#endif // GRADC_TESTS_RANDOM_VALUES_H
