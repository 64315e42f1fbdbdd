// How the trainer's floating-point arithmetic treats subnormal numbers.
//
// A value under 2^-126 (float) is subnormal, and on x86 every operation
// that reads or makes one takes a microcode assist, tens of times slower
// than a normal one. Training makes them: a unit that stops learning (a
// dead relu, a saturated sigmoid) leaves momentum and Adam buffers that
// decay geometrically into that range and, since 0.9 * v rounds back to v
// for the smallest of them, stay there. A 32-32-10 network at batch 1
// spent most of its steps in such assists by its fourth epoch.
//
// So the trainer flushes subnormals to zero, as TensorFlow and Keras do on
// the CPU: results that would be subnormal are zero (FTZ), and subnormal
// inputs are read as zero (DAZ). PyTorch keeps them unless told
// torch.set_flush_denormal(True); a trainer's --keep-subnormals does the
// same. Either way the arithmetic is deterministic and the same on every
// thread, since each thread is set alike.
#ifndef GRADC_FLOAT_MODE_H
#define GRADC_FLOAT_MODE_H

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define GRADC_HAS_MXCSR 1
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

namespace gradc {

// Flushes subnormals to zero (FTZ and DAZ) on the calling thread and on
// every thread of the OpenMP pool. Threads created later are created by
// this one and inherit its mode.
inline void flushSubnormals() {
#ifdef GRADC_HAS_MXCSR
  constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  const auto set = [] {
    _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero);
  };
  set();
#ifdef _OPENMP
#pragma omp parallel
  set();
#endif
#endif
}

// Whether the calling thread flushes subnormals now.
inline bool flushingSubnormals() {
#ifdef GRADC_HAS_MXCSR
  return (_mm_getcsr() & 0x8040) == 0x8040;
#else
  return false;
#endif
}

} // namespace gradc

#endif // GRADC_FLOAT_MODE_H
