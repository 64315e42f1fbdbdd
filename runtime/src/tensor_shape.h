// Internal to tensor_io: the checks and messages about tensor shapes that
// its format readers and writers share.
#ifndef GRADC_RUNTIME_TENSOR_SHAPE_H
#define GRADC_RUNTIME_TENSOR_SHAPE_H

#include "tensor_io.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gradc {

// numpy's own limit on the number of dimensions; no real safetensors
// tensor comes near it either.
constexpr size_t kMaxRank = 64;

// Multiplies dims into an element count, or returns false when the count
// does not fit in 64 bits. A zero dim makes any product zero.
bool countElements(const std::vector<int64_t> &dims, uint64_t *count);

// Dims as messages show them: [2, 3].
std::string formatDims(const std::vector<int64_t> &dims);

// Checks that a tensor's data matches its shape and returns its size.
size_t checkedCount(const std::string &path, const std::string &name,
                    const HostTensor &tensor);

} // namespace gradc

#endif // GRADC_RUNTIME_TENSOR_SHAPE_H
