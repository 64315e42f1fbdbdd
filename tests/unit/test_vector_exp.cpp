// gradc::sigmoid, the vectorizable sigmoid of the generated elementwise
// loops, against the long-double formula, and at its edges.
#include <gradc/vector_exp.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

namespace {

template <typename T> long double reference(T x) {
  return 1.0L / (1.0L + std::exp(-static_cast<long double>(x)));
}

// The largest error over a sweep of x, in units of T's epsilon relative
// to the exact value.
template <typename T> double largestRelativeError(T from, T to, int count) {
  double largest = 0;
  for (int i = 0; i <= count; ++i) {
    T x = from + (to - from) * static_cast<T>(i) / static_cast<T>(count);
    long double exact = reference(x);
    long double error = std::fabs(gradc::sigmoid(x) - exact) / exact;
    largest = std::max(largest, static_cast<double>(error));
  }
  return largest / std::numeric_limits<T>::epsilon();
}

} // namespace

TEST_CASE("sigmoid is within two units in the last place", "[kernels]") {
  CHECK(largestRelativeError<float>(-80.0f, 80.0f, 200001) < 2.0);
  CHECK(largestRelativeError<float>(-1e-3f, 1e-3f, 20001) < 2.0);
  CHECK(largestRelativeError<double>(-700.0, 700.0, 200001) < 2.0);
  CHECK(largestRelativeError<double>(-1e-6, 1e-6, 20001) < 2.0);
}

TEST_CASE("sigmoid at its edges", "[kernels]") {
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(gradc::sigmoid(inf) == 1.0f);
  CHECK(gradc::sigmoid(1000.0f) == 1.0f);
  CHECK(gradc::sigmoid(0.0f) == 0.5f);
  CHECK(std::isnan(gradc::sigmoid(std::nanf(""))));
  CHECK(std::isnan(gradc::sigmoid(std::nan(""))));

  // Far below zero the result stays a tiny nonnegative number.
  for (float x : {-100.0f, -1000.0f, -inf}) {
    CAPTURE(x);
    CHECK(gradc::sigmoid(x) >= 0.0f);
    CHECK(gradc::sigmoid(x) < 1e-37f);
  }
  CHECK(gradc::sigmoid(-1000.0) < 1e-300);
}
