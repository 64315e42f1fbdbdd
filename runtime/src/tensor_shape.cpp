// Shape checks and messages shared by tensor_io's format readers and
// writers, so that every format counts elements and names shapes alike.
#include "tensor_shape.h"

#include "file_io.h"

#include <limits>

#include <fmt/ranges.h>

namespace gradc {

bool countElements(const std::vector<int64_t> &dims, uint64_t *count) {
  uint64_t product = 1;
  bool overflowed = false;
  for (int64_t dim : dims) {
    if (dim == 0) {
      *count = 0;
      return true;
    }
    auto factor = static_cast<uint64_t>(dim);
    if (product > std::numeric_limits<uint64_t>::max() / factor)
      overflowed = true;
    else
      product *= factor;
  }
  *count = product;
  return !overflowed;
}

std::string formatDims(const std::vector<int64_t> &dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

size_t checkedCount(const std::string &path, const std::string &name,
                    const HostTensor &tensor) {
  for (int64_t dim : tensor.shape)
    if (dim < 0)
      fail(path, "{} has a negative dim in shape {}", name,
           formatDims(tensor.shape));
  uint64_t count = 0;
  if (!countElements(tensor.shape, &count) || count != tensor.data.size())
    fail(path, "{} has shape {} but holds {} values", name,
         formatDims(tensor.shape), tensor.data.size());
  return tensor.data.size();
}

} // namespace gradc
