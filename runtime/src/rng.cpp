// xoshiro256** and splitmix64 as their authors published them, plus the few
// draws the trainer needs. See rng.h for why streams are derived.
#include "rng.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

namespace gradc {

static uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t rotateLeft(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t deriveSeed(uint64_t seed, RngStream stream, uint64_t index) {
  // Each input passes through the mixer before the next is folded in, so
  // nearby seeds, streams and indices land far apart.
  uint64_t state = seed;
  uint64_t mixed = splitmix64(state);
  state = mixed ^ static_cast<uint64_t>(stream);
  mixed = splitmix64(state);
  state = mixed ^ index;
  return splitmix64(state);
}

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t &word : state_)
    word = splitmix64(state);
}

uint64_t Rng::next() {
  const uint64_t result = rotateLeft(state_[1] * 5, 7) * 9;
  const uint64_t shifted = state_[1] << 17;

  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= shifted;
  state_[3] = rotateLeft(state_[3], 45);
  return result;
}

uint64_t Rng::below(uint64_t bound) {
  // Lemire's multiply-and-reject: the high word of x * bound is uniform in
  // [0, bound) once the few low words that would bias it are redrawn.
  unsigned __int128 product = static_cast<unsigned __int128>(next()) * bound;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      product = static_cast<unsigned __int128>(next()) * bound;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }

double Rng::normal() {
  // 1 - uniform() lies in (0, 1], so the logarithm is finite.
  const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
  return radius * std::cos(2.0 * std::numbers::pi * uniform());
}

std::vector<int64_t> shuffledOrder(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});

  Rng rng(deriveSeed(seed, RngStream::Shuffle, static_cast<uint64_t>(epoch)));
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j =
        static_cast<int64_t>(rng.below(static_cast<uint64_t>(i + 1)));
    std::swap(order[i], order[j]);
  }
  return order;
}

std::vector<int64_t> sampleIndices(int64_t n, int64_t k, Rng &rng) {
  std::vector<int64_t> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), int64_t{0});
  if (k >= n)
    return all;

  // A partial Fisher-Yates shuffle: the first k slots end up a uniform
  // sample without replacement.
  for (int64_t i = 0; i < k; ++i) {
    const auto j =
        i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - i)));
    std::swap(all[i], all[j]);
  }
  all.resize(static_cast<size_t>(k));
  std::sort(all.begin(), all.end());
  return all;
}

} // namespace gradc
