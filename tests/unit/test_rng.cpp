// The random streams: shuffles are permutations that depend on the seed
// and the epoch alone, draws stay in range, and the generator's first
// values are pinned so that a change to it (which would change every run's
// results) cannot pass unnoticed.
#include "rng.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

TEST_CASE("an epoch's order is a permutation fixed by seed and epoch",
          "[rng]") {
  const std::vector<int64_t> order = gradc::shuffledOrder(1000, 42, 3);
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), int64_t{0});
  CHECK(sorted == identity);

  CHECK(gradc::shuffledOrder(1000, 42, 3) == order);
  CHECK(gradc::shuffledOrder(1000, 42, 4) != order);
  CHECK(gradc::shuffledOrder(1000, 43, 3) != order);
}

TEST_CASE("the generator's values are pinned", "[rng]") {
  gradc::Rng rng(gradc::deriveSeed(1, gradc::RngStream::Shuffle, 0));
  const uint64_t first = rng.next();
  const uint64_t second = rng.next();
  CHECK(first == 0xe94e8f870b27c98dULL);
  CHECK(second == 0x049099abe3c0f9e4ULL);
}

TEST_CASE("bounded and real draws stay in range", "[rng]") {
  gradc::Rng rng(5);
  for (int i = 0; i < 10000; ++i) {
    CHECK(rng.below(7) < 7);
    const double u = rng.uniform();
    CHECK(u >= 0.0);
    CHECK(u < 1.0);
  }
  double sum = 0;
  double squares = 0;
  const int count = 20000;
  for (int i = 0; i < count; ++i) {
    const double value = rng.normal();
    sum += value;
    squares += value * value;
  }
  CHECK(std::abs(sum / count) < 0.05);
  CHECK(std::abs(squares / count - 1.0) < 0.05);
}

TEST_CASE("a sample has distinct sorted indices", "[rng]") {
  gradc::Rng rng(9);
  const std::vector<int64_t> sample = gradc::sampleIndices(100, 64, rng);
  REQUIRE(sample.size() == 64);
  CHECK(std::is_sorted(sample.begin(), sample.end()));
  CHECK(std::adjacent_find(sample.begin(), sample.end()) == sample.end());
  CHECK(sample.back() < 100);
  CHECK(gradc::sampleIndices(5, 64, rng).size() == 5);
}
