// Splitting a kernel's loop over threads, with OpenMP, so that the result
// does not depend on the number of threads.
//
// A loop is split into contiguous ranges of independent items (output rows,
// blocks of a product, samples, channels, elements), one range per thread.
// No item is shared between threads and every sum stays inside one item,
// taken in the order the serial code takes it, so each value comes out bit
// for bit the same whatever the thread count. Sums over the items (a norm,
// a loss) are not split.
//
// Work below kParallelMinWork runs on the calling thread: starting a
// parallel region costs some microseconds, as much as a small product.
// Inside a parallel region everything runs on the calling thread, so a
// kernel split over samples may call one split over rows, and the kernels
// of a part of a step (parallelParts) run on its thread. Compiled without
// OpenMP (no -fopenmp), everything runs on the calling thread.
#ifndef GRADC_PARALLEL_H
#define GRADC_PARALLEL_H

#include <algorithm>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace gradc {

// The least work, in elements touched (or multiply-adds), worth a
// parallel region: waking a sleeping thread takes some microseconds.
constexpr int64_t kParallelMinWork = int64_t{1} << 16;

// The least work of a matrix product, in multiply-adds, worth a parallel
// region: below it, a product takes about as long as waking a thread.
constexpr int64_t kParallelMinGemmWork = int64_t{1} << 20;

// The threads a loop with `work` to do gets, given the least work that
// pays for a parallel region.
inline int parallelThreads(int64_t work, int64_t least = kParallelMinWork) {
#ifdef _OPENMP
  if (work < least || omp_in_parallel())
    return 1;
  return omp_get_max_threads();
#else
  (void)work;
  (void)least;
  return 1;
#endif
}

// Calls body(begin, end) on disjoint contiguous ranges that cover
// [0, items), at most one range per thread, in parallel when `work` is at
// least `least`. Each range is computed on its own, so `body` must give
// each item the same result whichever range it falls in.
template <typename Body>
void parallelRanges(int64_t items, int64_t work, Body &&body,
                    int64_t least = kParallelMinWork) {
  if (items <= 0)
    return;
  int64_t threads = parallelThreads(work, least);
  if (threads > items)
    threads = items;
  if (threads <= 1) {
    body(int64_t{0}, items);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(static_cast<int>(threads))
  {
    const int64_t index = omp_get_thread_num();
    const int64_t count = omp_get_num_threads();
    const int64_t begin = items * index / count;
    const int64_t end = items * (index + 1) / count;
    if (begin < end)
      body(begin, end);
  }
#endif
}

// Calls body(part) for every part in [0, parts), side by side, part p on
// thread p % threads; the kernels a part calls run on its thread. All the
// threads join the region, those without a part only waiting: OpenMP
// threads spin while they wait, and a region of fewer threads than the one
// before left the rest spinning in the pool against the parts (on 3
// threads and two cores, steps took ten times as long). With more threads
// than parts, the extra threads idle while the parts run.
template <typename Body> void parallelParts(int parts, Body &&body) {
#ifdef _OPENMP
  if (parts > 1 && omp_get_max_threads() > 1 && !omp_in_parallel()) {
#pragma omp parallel
    {
      for (int part = omp_get_thread_num(); part < parts;
           part += omp_get_num_threads())
        body(part);
    }
    return;
  }
#endif
  for (int part = 0; part < parts; ++part)
    body(part);
}

// The number of threads parallel work uses now: the trainer's --threads,
// OMP_NUM_THREADS, or all the processors available.
inline int availableThreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Makes parallel work use `threads` threads from now on (at least 1).
inline void setThreads(int threads) {
#ifdef _OPENMP
  omp_set_num_threads(threads < 1 ? 1 : threads);
#else
  (void)threads;
#endif
}

} // namespace gradc

#endif // GRADC_PARALLEL_H
