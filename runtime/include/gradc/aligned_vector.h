// A std::vector whose elements start on a cache line, for the buffers the
// kernels write in blocks: the trainer's workspace, parameters and
// gradients, and the benchmark's matrices. malloc gives large blocks 16 bytes
// past a page boundary, so a row of C began mid-line and two threads writing
// neighbouring panels of one product shared the lines at every panel's edges
// (784-deep products ran a tenth slower on two threads).
#ifndef GRADC_ALIGNED_VECTOR_H
#define GRADC_ALIGNED_VECTOR_H

#include <cstddef>
#include <new>
#include <vector>

namespace gradc {

constexpr std::size_t kCacheLineBytes = 64;

template <typename T> struct CacheLineAllocator {
  using value_type = T;

  CacheLineAllocator() = default;
  template <typename U> CacheLineAllocator(const CacheLineAllocator<U> &) {}

  T *allocate(std::size_t n) {
    return static_cast<T *>(
        ::operator new (n * sizeof(T), std::align_val_t{kCacheLineBytes}));
  }
  void deallocate(T *p, std::size_t) {
    ::operator delete (p, std::align_val_t{kCacheLineBytes});
  }

  template <typename U> bool operator==(const CacheLineAllocator<U> &) const {
    return true;
  }
};

template <typename T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

} // namespace gradc

#endif
