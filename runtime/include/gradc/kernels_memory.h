// Memory helpers the kernels share: a thread's scratch buffer, and
// copies of rows too short for std::copy to pay for its call. Packing a
// matrix product's panels, unfolding a convolution's input and pooling
// all move such rows.
#ifndef GRADC_KERNELS_MEMORY_H
#define GRADC_KERNELS_MEMORY_H

#include <algorithm>
#include <cstdint>
#include <vector>

#include <gradc/aligned_vector.h>

#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace gradc::detail {

// A thread's scratch buffer holding at least n elements, whatever they
// were. One buffer serves calls of many sizes, and a vector resized down
// and up again zeroes the difference every time: in cnn_fashion's step,
// calls to memset took 2%. The buffer starts on a cache line: malloc's
// 16-byte alignment left the rows of a packed panel across two lines,
// and with AVX-512 every vector load of them a split load, which took a
// twentieth off mlp_fashion's products.
template <typename T> T *scratch(AlignedVector<T> &buffer, int64_t n) {
  if (buffer.size() < static_cast<size_t>(n))
    buffer.resize(static_cast<size_t>(n));
  return buffer.data();
}

// Copies n elements (to[i] = from[i]) or adds them (to[i] += from[i]).
// Packing, unfolding and folding move rows as short as an image's (11
// floats in a second convolution layer), for which std::copy's call to
// memmove cost more than the copy; with AVX-512 a row takes one or two
// masked vectors, with AVX whole vectors. The two rows must not overlap.
template <bool Add, typename T>
__attribute__((always_inline)) inline void moveRow(const T *from, int64_t n,
                                                   T *to) {
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
    constexpr int64_t lanes = 64 / sizeof(T);
    for (int64_t i = 0; i < n; i += lanes) {
      const int64_t left = std::min(lanes, n - i);
      const __mmask16 mask = static_cast<__mmask16>((1u << left) - 1);
      if constexpr (sizeof(T) == 4) {
        __m512 v = _mm512_maskz_loadu_ps(mask, from + i);
        if constexpr (Add)
          v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, to + i));
        _mm512_mask_storeu_ps(to + i, mask, v);
      } else {
        const __mmask8 mask8 = static_cast<__mmask8>(mask);
        __m512d v = _mm512_maskz_loadu_pd(mask8, from + i);
        if constexpr (Add)
          v = _mm512_add_pd(v, _mm512_maskz_loadu_pd(mask8, to + i));
        _mm512_mask_storeu_pd(to + i, mask8, v);
      }
    }
    return;
  }
#elif defined(__AVX__)
  // Whole vectors, then a copy's last vector again, overlapping the one
  // before, and what is left of a sum one by one: on AMD's first Zen
  // cores, masked stores made cnn_fashion's step 9% slower than memmove.
  if constexpr (sizeof(T) == 4) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      __m256 v = _mm256_loadu_ps(from + i);
      if constexpr (Add)
        v = _mm256_add_ps(v, _mm256_loadu_ps(to + i));
      _mm256_storeu_ps(to + i, v);
    }
    if (!Add && i < n && n >= 8) {
      _mm256_storeu_ps(to + n - 8, _mm256_loadu_ps(from + n - 8));
      return;
    }
    for (; i < n; ++i)
      to[i] = Add ? to[i] + from[i] : from[i];
    return;
  }
#endif
  if constexpr (Add)
    for (int64_t i = 0; i < n; ++i)
      to[i] += from[i];
  else
    std::copy(from, from + n, to);
}

#if defined(__AVX__)
// Writes the first n (0 to 8) lanes of v in 128-, 64- and 32-bit stores,
// as masked stores are slow on AMD's first Zen cores (see moveRow).
inline void storeFirst(float *to, __m256 v, int64_t n) {
  if (n == 8)
    return _mm256_storeu_ps(to, v);
  __m128 part = _mm256_castps256_ps128(v);
  if (n >= 4) {
    _mm_storeu_ps(to, part);
    part = _mm256_extractf128_ps(v, 1);
    to += 4;
    n -= 4;
  }
  if (n >= 2) {
    _mm_storel_pi(reinterpret_cast<__m64 *>(to), part);
    part = _mm_movehl_ps(part, part);
    to += 2;
    n -= 2;
  }
  if (n)
    _mm_store_ss(to, part);
}
#endif

} // namespace gradc::detail

#endif // GRADC_KERNELS_MEMORY_H
