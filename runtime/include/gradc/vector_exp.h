// exp's parts and a sigmoid that vectorize, for the generated elementwise
// loops and the recurrences.
//
// The library's expf is a call, which keeps a loop scalar; these are plain
// arithmetic, inlined, so a loop over them runs on whole vectors.
//
// exp(x) = 2^k e^r with k = round(x / ln 2) and |r| <= ln(2) / 2; e^r from
// its Taylor polynomial, to r^7 in float and r^13 in double, where the
// terms left out are below a tenth of the last place; 2^k written into the
// exponent bits. x is clamped to where 2^k stays a normal number.
//
// The LLVM backend builds sigmoid() in IR operation for operation
// (compiler/codegen/llvm/StepBuilder.cpp), so both backends give the same
// bits: every multiply-add is an explicit fma, and no multiply feeds an
// add that a C++ compiler could fuse on its own.
#ifndef GRADC_VECTOR_EXP_H
#define GRADC_VECTOR_EXP_H

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

namespace gradc {

namespace detail {

template <typename T> struct ExpParts;

template <> struct ExpParts<float> {
  using Int = int32_t;
  using Bits = uint32_t;
  static constexpr int MantissaBits = 23;
  static constexpr Int ExponentBias = 127;
  static constexpr int Degree = 7;
  static constexpr float Lowest = -87.0f, Highest = 88.0f;
  // ln 2 in two parts, the first short enough that k times it is exact.
  static constexpr float Ln2High = 0.693359375f, Ln2Low = -2.12194440e-4f;
  // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer.
  static constexpr float Rounder = 12582912.0f;
};

template <> struct ExpParts<double> {
  using Int = int64_t;
  using Bits = uint64_t;
  static constexpr int MantissaBits = 52;
  static constexpr Int ExponentBias = 1023;
  static constexpr int Degree = 13;
  static constexpr double Lowest = -708.0, Highest = 709.0;
  static constexpr double Ln2High = 6.93147180369123816490e-01;
  static constexpr double Ln2Low = 1.90821492927058770002e-10;
  static constexpr double Rounder = 6755399441055744.0; // 1.5 * 2^52
};

// Whether x is NaN, by a comparison that raises no exception.
template <typename T> inline bool isNaN(T x) {
  return __builtin_isunordered(x, x);
}

// 1 / ln 2.
constexpr double kLog2E = 1.4426950408889634;

// 1 / n!, the Taylor coefficients of e^r.
constexpr double inverseFactorial(int n) {
  return n == 0 ? 1.0 : inverseFactorial(n - 1) / n;
}

// 1 / n! for n from 0 to ExpParts<T>::Degree, rounded to T.
template <typename T>
constexpr std::array<T, ExpParts<T>::Degree + 1> taylorCoefficients() {
  std::array<T, ExpParts<T>::Degree + 1> coefficients{};
  for (int n = 0; n <= ExpParts<T>::Degree; ++n)
    coefficients[n] = T(inverseFactorial(n));
  return coefficients;
}

// exp(x) as its two factors, e^r and 2^k, which sigmoid multiplies and
// adds 1 to in one fma. A NaN x fails both comparisons of the clamp and
// is computed as Lowest; the callers put it back.
template <typename T> struct ExpFactors { T polynomial, scale; };

template <typename T> inline ExpFactors<T> expFactors(T x) {
  using Parts = ExpParts<T>;
  T clamped = x > Parts::Lowest ? x : Parts::Lowest;
  clamped = clamped < Parts::Highest ? clamped : Parts::Highest;
  const T k = std::fma(clamped, T(kLog2E), Parts::Rounder) - Parts::Rounder;
  T r = std::fma(-k, Parts::Ln2High, clamped);
  r = std::fma(-k, Parts::Ln2Low, r);

  // The coefficients as constants and the loop unrolled: a loop left in
  // the loop over elements keeps GCC from vectorizing that one.
  constexpr auto coefficient = taylorCoefficients<T>();
  T polynomial = coefficient[Parts::Degree];
#pragma GCC unroll 16
  for (int n = Parts::Degree - 1; n >= 0; --n)
    polynomial = std::fma(polynomial, r, coefficient[n]);

  const auto exponent =
      static_cast<typename Parts::Int>(k) + Parts::ExponentBias;
  const T scale = std::bit_cast<T>(
      static_cast<typename Parts::Bits>(exponent) << Parts::MantissaBits);
  return {polynomial, scale};
}

} // namespace detail

// 1 / (1 + exp(-x)), within a unit in the last place. NaN stays NaN. Below
// x = -88 (float) or -709 (double) it stays at 1 / (1 + e^88) or
// 1 / (1 + e^709), where the exact value is smaller still and libm's exp
// would overflow to give 0.
template <typename T> inline T sigmoid(T x) {
  const auto e = detail::expFactors(-x);
  const T result = T(1) / std::fma(e.polynomial, e.scale, T(1));
  return detail::isNaN(x) ? x : result;
}

} // namespace gradc

#endif // GRADC_VECTOR_EXP_H
