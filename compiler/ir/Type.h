//===- Type.h - Static tensor shapes ---------------------------*- C++ -*-===//
//
// Every tensor in a gradc graph has a shape known at compile time, except
// for the batch axis: activations carry a leading batch axis whose size is
// chosen when the trainer runs, while parameters and the loss do not.
//
//===----------------------------------------------------------------------===//
#ifndef GRADC_IR_TYPE_H
#define GRADC_IR_TYPE_H

#include <cstdint>
#include <string>
#include <vector>

namespace gradc {

struct TensorType {
  bool batched = false;
  std::vector<int64_t> dims; // without the batch axis

  // Elements of one sample (batched) or of the whole tensor (unbatched).
  int64_t elements() const {
    int64_t count = 1;
    for (int64_t dim : dims)
      count *= dim;
    return count;
  }

  // The size of the last axis, or 1 for a scalar.
  int64_t lastDim() const { return dims.empty() ? 1 : dims.back(); }

  // "[B,784]" for a batched tensor, "[256,784]" for a parameter.
  std::string str() const {
    std::string text = batched ? "[B" : "[";
    for (size_t i = 0; i < dims.size(); ++i)
      text += (i || batched ? "," : "") + std::to_string(dims[i]);
    return text + "]";
  }

  bool operator==(const TensorType &) const = default;
};

inline TensorType batchedType(std::vector<int64_t> dims) {
  return TensorType{true, std::move(dims)};
}

inline TensorType fixedType(std::vector<int64_t> dims) {
  return TensorType{false, std::move(dims)};
}

} // namespace gradc

#endif // GRADC_IR_TYPE_H
