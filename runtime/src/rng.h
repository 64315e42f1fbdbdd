// Random numbers that are the same on every platform: xoshiro256** seeded
// through splitmix64, with integer-only bounded draws so that a shuffle does
// not depend on the C library. Every use gets its own stream derived from
// (seed, purpose, index): the order of epoch e, the values of parameter i,
// the dropout masks of step s. Resuming a run therefore needs no saved
// generator state beyond the seed and the position.
#ifndef GRADC_RUNTIME_RNG_H
#define GRADC_RUNTIME_RNG_H

#include <cstdint>
#include <vector>

namespace gradc {

enum class RngStream : uint64_t {
  Init = 1,
  Shuffle = 2,
  Dropout = 3,
  GradcheckData = 4,
  GradcheckSample = 5,
};

// A seed for one purpose; different (seed, stream, index) give unrelated
// sequences.
uint64_t deriveSeed(uint64_t seed, RngStream stream, uint64_t index);

class Rng {
public:
  explicit Rng(uint64_t seed);

  uint64_t next();
  // Uniform in [0, bound), without modulo bias; bound must be positive.
  uint64_t below(uint64_t bound);
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  // Standard normal, by the Box-Muller transform.
  double normal();

private:
  uint64_t state_[4];
};

// The order in which epoch `epoch` visits n samples: a Fisher-Yates shuffle
// driven by the epoch's own stream.
std::vector<int64_t> shuffledOrder(int64_t n, uint64_t seed, int64_t epoch);

// k distinct indices from [0, n) in increasing order (all of them when
// k >= n).
std::vector<int64_t> sampleIndices(int64_t n, int64_t k, Rng &rng);

} // namespace gradc

#endif // GRADC_RUNTIME_RNG_H
