// Max pooling's 2x2 tiles and the fold of a convolution whose windows lie
// inside its input, as a trainer compiled for this machine runs them: this
// file is compiled with -march=native, so that floats take the vector
// paths (AVX-512 or AVX2), whose short rows end in overlapping vectors or
// stores in pieces. Each result must be, bit for bit, a scalar reference
// written here: a window's maximum with a NaN winning, its gradient to the
// first maximum in row order or the last NaN, and the fold's taps added
// in order.
#include <gradc/kernels.h>

#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace {

using gradc::WindowShape;

bool sameBits(const std::vector<float> &x, const std::vector<float> &y) {
  return x.size() == y.size() &&
         std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// The values a pool sees after a relu and before it, with ties, both
// zeros, and two NaNs told apart by their bits.
std::vector<float> poolValues(int64_t n, std::mt19937 &random) {
  const float values[] = {std::bit_cast<float>(0x7fc00001u),
                          std::bit_cast<float>(0xffc00002u),
                          -1.0f,
                          -0.5f,
                          -0.0f,
                          0.0f,
                          0.0f,
                          1.0f,
                          2.0f,
                          2.0f,
                          3.0f,
                          -std::numeric_limits<float>::infinity()};
  std::uniform_int_distribution<int> pick(0, 11);
  std::uniform_real_distribution<float> any(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  // Half the data from the list, so that ties and NaNs are common, half
  // distinct values.
  for (float &v : x)
    v = random() % 2 ? values[pick(random)] : any(random);
  return x;
}

// Shapes of 2x2 windows at stride 2 over every row width of 1 to 20
// windows, with and without a column and a row that no window covers.
std::vector<WindowShape> tileShapes() {
  std::vector<WindowShape> shapes;
  for (int64_t ow = 1; ow <= 20; ++ow)
    for (int64_t extra = 0; extra < 2; ++extra) {
      const int64_t oh = 1 + (ow + extra) % 3;
      shapes.push_back(WindowShape{2, 2 * oh + extra, 2 * ow + extra, 2, oh, ow,
                                   2, 2, 0, 0});
    }
  return shapes;
}

// The element of the window at `corner` that gets its gradient: the last
// NaN in row order, or else the first maximum.
int64_t chosenElement(const WindowShape &s, const float *x, int64_t corner) {
  int64_t best = corner, nan = -1;
  for (int64_t kh = 0; kh < 2; ++kh)
    for (int64_t kw = 0; kw < 2; ++kw) {
      const int64_t at = corner + kh * s.width + kw;
      if (std::isnan(x[at]))
        nan = at;
      else if (!std::isnan(x[best]) && x[at] > x[best])
        best = at;
    }
  return nan >= 0 ? nan : best;
}

} // namespace

TEST_CASE("a 2x2 max pool's tiles give each window's maximum, a NaN winning",
          "[kernels]") {
  std::mt19937 random(21);
  for (const WindowShape &s : tileShapes()) {
    const int64_t B = 2, planes = B * s.channels;
    const int64_t inPlane = s.height * s.width;
    const int64_t outPlane = s.outHeight * s.outWidth;
    const std::vector<float> x = poolValues(planes * inPlane, random);
    // A guard element either side of y, to see nothing is stored past it.
    std::vector<float> guarded(planes * outPlane + 2, -7.0f);
    gradc::maxPool2d<float>(B, s, x.data(), guarded.data() + 1);
    const std::vector<float> y(guarded.begin() + 1, guarded.end() - 1);

    std::vector<float> expected(y.size());
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t oh = 0; oh < s.outHeight; ++oh)
        for (int64_t ow = 0; ow < s.outWidth; ++ow) {
          const int64_t corner = p * inPlane + 2 * oh * s.width + 2 * ow;
          // The maximum in row order; each NaN wins over what came before.
          float maximum = x[corner];
          for (int64_t at :
               {corner + 1, corner + s.width, corner + s.width + 1})
            if (std::isnan(x[at]) || x[at] > maximum)
              maximum = x[at];
          expected[p * outPlane + oh * s.outWidth + ow] = maximum;
        }
    INFO("out " << s.outHeight << "x" << s.outWidth << " in " << s.height << "x"
                << s.width);
    CHECK(sameBits(y, expected));
    CHECK(std::bit_cast<uint32_t>(guarded.front()) ==
          std::bit_cast<uint32_t>(-7.0f));
    CHECK(std::bit_cast<uint32_t>(guarded.back()) ==
          std::bit_cast<uint32_t>(-7.0f));
  }
}

namespace {

// maxPool2dGrad over tileShapes against the reference.
template <bool Positive> void checkPoolGrad(unsigned seed) {
  std::mt19937 random(seed);
  for (const WindowShape &s : tileShapes()) {
    const int64_t B = 2, planes = B * s.channels;
    const int64_t inPlane = s.height * s.width;
    const int64_t outPlane = s.outHeight * s.outWidth;
    const std::vector<float> x = poolValues(planes * inPlane, random);
    // dy's bits are copied as they are: a -0 and a NaN among them too.
    std::vector<float> dy = poolValues(planes * outPlane, random);
    std::vector<float> guarded(planes * inPlane + 2, -7.0f);
    gradc::maxPool2dGrad<float, Positive>(B, s, dy.data(), x.data(),
                                          guarded.data() + 1);
    const std::vector<float> dx(guarded.begin() + 1, guarded.end() - 1);

    // With Positive, only an element > 0 takes its window's dy.
    std::vector<float> expected(dx.size(), 0.0f);
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t oh = 0; oh < s.outHeight; ++oh)
        for (int64_t ow = 0; ow < s.outWidth; ++ow) {
          const int64_t at = chosenElement(
              s, x.data(), p * inPlane + 2 * oh * s.width + 2 * ow);
          if (!Positive || x[at] > 0.0f)
            expected[at] = dy[p * outPlane + oh * s.outWidth + ow];
        }
    INFO("out " << s.outHeight << "x" << s.outWidth << " in " << s.height << "x"
                << s.width);
    CHECK(sameBits(dx, expected));
    CHECK(std::bit_cast<uint32_t>(guarded.front()) ==
          std::bit_cast<uint32_t>(-7.0f));
    CHECK(std::bit_cast<uint32_t>(guarded.back()) ==
          std::bit_cast<uint32_t>(-7.0f));
  }
}

} // namespace

TEST_CASE("a 2x2 max pool's tiles give dy to the first maximum or last NaN",
          "[kernels]") {
  checkPoolGrad<false>(22);
}

TEST_CASE("a 2x2 max pool's tiles after a relu give dy only to values > 0",
          "[kernels]") {
  checkPoolGrad<true>(23);
}

TEST_CASE("a fold of windows inside the input adds its taps in order",
          "[kernels]") {
  std::mt19937 random(24);
  std::uniform_real_distribution<float> any(-1.0f, 1.0f);
  // Rows narrower than a vector, of whole vectors and between, under
  // windows of 1 to 5; no NaNs, whose payloads the general path's adds
  // pick in either order.
  for (int64_t k = 1; k <= 5; ++k)
    for (int64_t width = k; width <= 20; ++width) {
      const int64_t height = k + width % 4;
      const int64_t outHeight = height - k + 1, outWidth = width - k + 1;
      const WindowShape s{2, height, width, 3, outHeight, outWidth, k, 1, 0, 0};
      const int64_t positions = s.outHeight * s.outWidth;
      const int64_t taps = s.channels * k * k;
      std::vector<float> du(static_cast<size_t>(taps * positions));
      for (float &v : du) {
        const int kind = static_cast<int>(random() % 8);
        v = kind == 0 ? -0.0f : kind == 1 ? 0.0f : any(random);
      }
      std::vector<float> guarded(s.channels * height * width + 2, -7.0f);
      gradc::detail::fold(s, du.data(), guarded.data() + 1);
      const std::vector<float> dx(guarded.begin() + 1, guarded.end() - 1);

      // fold's general path: from +0, each tap's rows added in tap order.
      std::vector<float> expected(dx.size(), 0.0f);
      for (int64_t t = 0; t < taps; ++t) {
        const int64_t c = t / (k * k), kh = t / k % k, kw = t % k;
        for (int64_t oh = 0; oh < s.outHeight; ++oh)
          for (int64_t ow = 0; ow < s.outWidth; ++ow)
            expected[(c * height + oh + kh) * width + ow + kw] +=
                du[t * positions + oh * s.outWidth + ow];
      }
      INFO("kernel " << k << " in " << height << "x" << width);
      CHECK(sameBits(dx, expected));
      CHECK(std::bit_cast<uint32_t>(guarded.front()) ==
            std::bit_cast<uint32_t>(-7.0f));
      CHECK(std::bit_cast<uint32_t>(guarded.back()) ==
            std::bit_cast<uint32_t>(-7.0f));
    }
}
