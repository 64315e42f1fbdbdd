// Normally distributed test inputs of any floating type, the same for a
// given seed on every run.
#ifndef GRADC_TESTS_RANDOM_VALUES_H
#define GRADC_TESTS_RANDOM_VALUES_H

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

#endif // GRADC_TESTS_RANDOM_VALUES_H
